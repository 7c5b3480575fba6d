package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// WireGuardPort is the listen port of the peer's wireguard-go (what its offers and answers say).
const WireGuardPort = 51999

// WireGuard is wireguard-go on one interface, configured with `ip` and `wg` (nothing of riftgate's).
type WireGuard struct {
	Interface string
	process   *exec.Cmd
}

func run(arguments ...string) error {
	command := exec.Command(arguments[0], arguments[1:]...)
	output, err := command.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v: %s", strings.Join(arguments, " "), err, strings.TrimSpace(string(output)))
	}
	return nil
}

// StartWireGuard starts wireguard-go on `name` with `privateKey` (base64) and the fixed listen port.
func StartWireGuard(name, privateKey string) (*WireGuard, error) {
	process := exec.Command("wireguard-go", "-f", name)
	process.Env = append(os.Environ(), "WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1")
	process.Stdout, process.Stderr = os.Stdout, os.Stderr
	if err := process.Start(); err != nil {
		return nil, err
	}
	socket := "/var/run/wireguard/" + name + ".sock"
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(socket); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	keyFile := "/dev/shm/" + name + ".key"
	if err := os.WriteFile(keyFile, []byte(privateKey+"\n"), 0o600); err != nil {
		return nil, err
	}
	defer os.Remove(keyFile)
	if err := run("wg", "set", name, "private-key", keyFile, "listen-port", fmt.Sprint(WireGuardPort)); err != nil {
		return nil, err
	}
	return &WireGuard{Interface: name, process: process}, nil
}

// Address gives the interface its overlay address with the network's prefix length, and brings it up.
func (w *WireGuard) Address(ipv4, prefix string) error {
	length := prefix[strings.LastIndex(prefix, "/")+1:]
	if err := run("ip", "address", "add", ipv4+"/"+length, "dev", w.Interface); err != nil {
		return err
	}
	return run("ip", "link", "set", w.Interface, "up")
}

// SetPeer points WireGuard's peer `key` at `endpoint`, with the peer's overlay addresses as allowed IPs; with
// `keepalive`, persistent keepalive 1 s too, which makes WireGuard start a handshake at once.
func (w *WireGuard) SetPeer(key, endpoint string, allowed []string, keepalive bool) error {
	args := []string{"wg", "set", w.Interface, "peer", key, "endpoint", endpoint, "allowed-ips", strings.Join(allowed, ",")}
	if keepalive {
		args = append(args, "persistent-keepalive", "1")
	}
	return run(args...)
}

// EnableKeepalive turns on persistent keepalive 1 s for peer `key` (§9.5: the controlled side, 250 ms after it
// configured the peer, so that its handshake does not collide with the controlling side's).
func (w *WireGuard) EnableKeepalive(key string) error {
	return run("wg", "set", w.Interface, "peer", key, "persistent-keepalive", "1")
}
