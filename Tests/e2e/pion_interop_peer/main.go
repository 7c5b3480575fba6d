// Command pion_interop_peer is a riftgate peer written from Protocol/PROTOCOL.md alone, with a third ICE library:
// pion/ice (Go, Debian's golang-github-pion-ice.v2-dev) instead of libnice (riftgate) or aioice
// (Tests/e2e/ice_interop_peer.py).
//
// It joins a network through the hub (gorilla/websocket and x/crypto's nacl/box, §5), negotiates ICE with every
// riftgate agent it meets using sealed offer / answer / candidate / end_of_candidates / restart messages (§7, §8,
// §10; pion nominates regularly as the controlling agent and accepts libnice's aggressive nomination as the
// controlled one), and carries WireGuard (an unmodified wireguard-go it configures with `wg`) over the pair pion
// selected, as §9 says: direct for host ↔ host (WireGuard to the peer's listen_port), otherwise forwarded (every
// WireGuard datagram as one datagram on the ICE component, both ways, through a loopback socket that is WireGuard's
// endpoint for the peer).
//
// Built and run inside a lab namespace by test_ice_interop.py (GOPATH=/usr/share/gocode GO111MODULE=off go build):
//
//	pion_interop_peer --hub ws://HOST:PORT --network NAME --token-file F --key-file F --interface IF --status-file F
//
// The flags and the status file are the aioice peer's: --key-file holds the 32-byte X25519 private key in base64
// (also the WireGuard key, §1); the status file is rewritten as JSON whenever a peer's path is configured:
// {peer key: {"path", "local", "remote", "generation", "controlling"}} plus "self" (the welcome's PeerInfo).
package main

import (
	"flag"
	"fmt"
	"os"
	"time"
)

func logf(format string, arguments ...any) {
	fmt.Printf("%s [pion-peer] %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, arguments...))
}

func main() {
	var options Options
	flag.StringVar(&options.Hub, "hub", "", "the hub's ws:// URL")
	flag.StringVar(&options.Network, "network", "", "the network to join")
	flag.StringVar(&options.TokenFile, "token-file", "", "a file holding the network's join token")
	flag.StringVar(&options.KeyFile, "key-file", "", "a file holding the X25519 private key, base64")
	flag.StringVar(&options.Interface, "interface", "", "the WireGuard interface to create")
	flag.StringVar(&options.StatusFile, "status-file", "", "where to write the status JSON")
	flag.Parse()
	if options.Hub == "" || options.Network == "" || options.TokenFile == "" || options.KeyFile == "" ||
		options.Interface == "" || options.StatusFile == "" {
		flag.Usage()
		os.Exit(2)
	}
	client, err := NewClient(options)
	if err != nil {
		logf("cannot start: %v", err)
		os.Exit(1)
	}
	if err := client.Run(); err != nil {
		logf("hub connection ended: %v", err)
		os.Exit(1)
	}
}
