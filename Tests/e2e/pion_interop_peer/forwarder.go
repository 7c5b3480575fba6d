package main

import (
	"net"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v2"
)

// Forwarder is WireGuard's endpoint for one peer on a forwarded path: a loopback socket whose datagrams go onto the
// ICE component, and the component's datagrams back to WireGuard's listen port.
type Forwarder struct {
	socket                 *net.UDPConn
	conn                   *ice.Conn
	fromWireGuard, fromICE atomic.Int64
	closed                 atomic.Bool
}

// NewForwarder binds the loopback socket and starts both directions.
func NewForwarder(conn *ice.Conn) (*Forwarder, error) {
	socket, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	forwarder := &Forwarder{socket: socket, conn: conn}
	go forwarder.toICE()
	go forwarder.toWireGuard()
	go forwarder.report()
	return forwarder, nil
}

// Endpoint is the loopback address WireGuard sends the peer's datagrams to.
func (f *Forwarder) Endpoint() string { return f.socket.LocalAddr().String() }

func (f *Forwarder) toICE() {
	buffer := make([]byte, 65536)
	for {
		count, _, err := f.socket.ReadFromUDP(buffer)
		if err != nil {
			return
		}
		f.fromWireGuard.Add(1)
		_, _ = f.conn.Write(buffer[:count])
	}
}

func (f *Forwarder) toWireGuard() {
	buffer := make([]byte, 65536)
	wireguard := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: WireGuardPort}
	for {
		count, err := f.conn.Read(buffer)
		if err != nil || f.closed.Load() {
			return
		}
		f.fromICE.Add(1)
		_, _ = f.socket.WriteToUDP(buffer[:count], wireguard)
	}
}

// report logs the datagrams forwarded each way every 2 s while they change (for a failure's log).
func (f *Forwarder) report() {
	var last [2]int64
	for !f.closed.Load() {
		time.Sleep(2 * time.Second)
		now := [2]int64{f.fromWireGuard.Load(), f.fromICE.Load()}
		if now != last {
			last = now
			logf("forwarded datagrams: from WireGuard %d, from ICE %d", now[0], now[1])
		}
	}
}

// Close stops both directions (the ICE side ends when its agent closes).
func (f *Forwarder) Close() {
	f.closed.Store(true)
	_ = f.socket.Close()
}
