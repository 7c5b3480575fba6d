package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/ice/v2"
	"golang.org/x/crypto/curve25519"
	"golang.org/x/crypto/nacl/box"
)

// Options are the command line's.
type Options struct {
	Hub, Network, TokenFile, KeyFile, Interface, StatusFile string
}

// Client is the hub connection (§3, §5) and the peers met through it.
type Client struct {
	options    Options
	privateKey [32]byte
	publicKey  [32]byte
	publicText string
	token      string

	writeLock sync.Mutex
	socket    *websocket.Conn

	lock      sync.Mutex
	links     map[string]*PeerLink
	paths     map[string]any
	selfInfo  map[string]any
	urls      []*ice.URL
	overlay   []*net.IPNet
	wireguard *WireGuard
}

func readSecret(path string) (string, error) {
	data, err := os.ReadFile(path)
	return strings.TrimSpace(string(data)), err
}

func b64(data []byte) string { return base64.StdEncoding.EncodeToString(data) }

// NewClient reads the key and token files.
func NewClient(options Options) (*Client, error) {
	client := &Client{options: options, links: map[string]*PeerLink{}, paths: map[string]any{}}
	keyText, err := readSecret(options.KeyFile)
	if err != nil {
		return nil, err
	}
	key, err := base64.StdEncoding.DecodeString(keyText)
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("%s: not a base64 X25519 private key", options.KeyFile)
	}
	copy(client.privateKey[:], key)
	public, err := curve25519.X25519(client.privateKey[:], curve25519.Basepoint)
	if err != nil {
		return nil, err
	}
	copy(client.publicKey[:], public)
	client.publicText = b64(public)
	if client.token, err = readSecret(options.TokenFile); err != nil {
		return nil, err
	}
	return client, nil
}

// encode is compact JSON without HTML escaping (the hub reads JSON, not HTML).
func encode(value any) []byte {
	var buffer bytes.Buffer
	encoder := json.NewEncoder(&buffer)
	encoder.SetEscapeHTML(false)
	if err := encoder.Encode(value); err != nil {
		panic(err)
	}
	return bytes.TrimRight(buffer.Bytes(), "\n")
}

// Send writes one protocol message.
func (c *Client) Send(message any) error {
	c.writeLock.Lock()
	defer c.writeLock.Unlock()
	return c.socket.WriteMessage(websocket.TextMessage, encode(message))
}

// Run joins the network (challenge, hello with proof, welcome) and handles the hub's messages until it closes.
func (c *Client) Run() error {
	dialer := websocket.Dialer{Subprotocols: []string{"riftgate.v1"}, HandshakeTimeout: 10 * time.Second}
	header := http.Header{"Authorization": {"Bearer " + c.token}}
	socket, _, err := dialer.Dial(c.options.Hub+"/v1/networks/"+c.options.Network, header)
	if err != nil {
		return err
	}
	socket.SetReadLimit(1 << 20)
	c.socket = socket
	var challenge struct {
		HubKey string `json:"hub_key"`
		Nonce  string `json:"nonce"`
	}
	if err := socket.ReadJSON(&challenge); err != nil {
		return fmt.Errorf("challenge: %w", err)
	}
	hubKey, err1 := base64.StdEncoding.DecodeString(challenge.HubKey)
	nonce, err2 := base64.StdEncoding.DecodeString(challenge.Nonce)
	if err1 != nil || err2 != nil || len(hubKey) != 32 {
		return fmt.Errorf("a challenge without a hub key and nonce: %+v", challenge)
	}
	if err := c.Send(map[string]any{"type": "hello", "version": 1, "public_key": c.publicText, "name": "pion-peer",
		"proof": c.proof(hubKey, nonce)}); err != nil {
		return err
	}
	for {
		_, data, err := socket.ReadMessage()
		if err != nil {
			return err
		}
		var message map[string]json.RawMessage
		if err := json.Unmarshal(data, &message); err != nil {
			logf("not JSON from the hub: %v", err)
			continue
		}
		c.handle(message, data)
	}
}

// proof is crypto_box(context ‖ 0 ‖ challenge nonce ‖ hub key ‖ our key ‖ network, random nonce, hub key, our key).
func (c *Client) proof(hubKey, challengeNonce []byte) map[string]string {
	statement := append([]byte("riftgate-proof-v1\x00"), challengeNonce...)
	statement = append(statement, hubKey...)
	statement = append(statement, c.publicKey[:]...)
	statement = append(statement, []byte(c.options.Network)...)
	var hub [32]byte
	copy(hub[:], hubKey)
	var nonce [24]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		panic(err)
	}
	sealed := box.Seal(nil, statement, &nonce, &hub, &c.privateKey)
	return map[string]string{"nonce": b64(nonce[:]), "box": b64(sealed)}
}

func text(message map[string]json.RawMessage, field string) string {
	var value string
	_ = json.Unmarshal(message[field], &value)
	return value
}

func (c *Client) handle(message map[string]json.RawMessage, data []byte) {
	switch kind := text(message, "type"); kind {
	case "welcome":
		var welcome Welcome
		if err := json.Unmarshal(data, &welcome); err != nil {
			logf("a welcome that does not parse: %v", err)
			return
		}
		c.welcome(welcome)
		for _, peer := range welcome.Peers {
			c.peerPresent(peer)
		}
	case "peer_joined":
		var joined struct {
			Peer map[string]any `json:"peer"`
		}
		if json.Unmarshal(data, &joined) == nil {
			c.peerPresent(joined.Peer)
		}
	case "peer_left":
		key := text(message, "public_key")
		c.lock.Lock()
		link := c.links[key]
		delete(c.links, key)
		c.lock.Unlock()
		if link != nil {
			link.Close()
		}
	case "offer", "answer", "candidate", "end_of_candidates", "restart":
		var sealed struct {
			Nonce string `json:"nonce"`
			Box   string `json:"box"`
		}
		_ = json.Unmarshal(message["sealed"], &sealed)
		c.lock.Lock()
		link := c.links[text(message, "from")]
		c.lock.Unlock()
		if link != nil {
			link.Receive(kind, sealed.Nonce, sealed.Box)
		}
	case "error":
		logf("hub error: %s", data)
	}
}

// Welcome is the part of the hub's welcome this peer reads.
type Welcome struct {
	Self       map[string]any   `json:"self"`
	Peers      []map[string]any `json:"peers"`
	IPv4Prefix string           `json:"ipv4_prefix"`
	IPv6Prefix string           `json:"ipv6_prefix"`
	ICE        struct {
		STUN []string `json:"stun"`
		TURN []struct {
			URLs       []string `json:"urls"`
			Username   string   `json:"username"`
			Credential string   `json:"credential"`
		} `json:"turn"`
	} `json:"ice"`
}

func (c *Client) welcome(welcome Welcome) {
	c.lock.Lock()
	defer c.lock.Unlock()
	c.selfInfo = welcome.Self
	for _, prefix := range []string{welcome.IPv4Prefix, welcome.IPv6Prefix} {
		if _, network, err := net.ParseCIDR(prefix); err == nil {
			c.overlay = append(c.overlay, network)
		}
	}
	for _, raw := range welcome.ICE.STUN[:min(1, len(welcome.ICE.STUN))] {
		if url, err := ice.ParseURL(raw); err == nil {
			c.urls = append(c.urls, url)
		}
	}
	for _, server := range welcome.ICE.TURN { // the first TURN server over UDP, with the hub's credentials
		chosen := false
		for _, raw := range server.URLs {
			url, err := ice.ParseURL(raw)
			if err != nil || url.Scheme != ice.SchemeTypeTURN || url.Proto != ice.ProtoTypeUDP {
				continue
			}
			url.Username, url.Password = server.Username, server.Credential
			c.urls = append(c.urls, url)
			chosen = true
			break
		}
		if chosen {
			break
		}
	}
	wireguard, err := StartWireGuard(c.options.Interface, b64(c.privateKey[:]))
	if err == nil {
		err = wireguard.Address(fmt.Sprint(c.selfInfo["ipv4"]), welcome.IPv4Prefix)
	}
	if err != nil {
		logf("WireGuard: %v", err)
		os.Exit(1)
	}
	c.wireguard = wireguard
	c.writeStatusLocked()
	logf("joined as %v; ICE servers %v", c.selfInfo["ipv4"], c.urls)
}

// outsideOverlay is pion's IPFilter: no candidate on our own WireGuard interface's addresses (§10.2).
func (c *Client) outsideOverlay(address net.IP) bool {
	c.lock.Lock()
	defer c.lock.Unlock()
	for _, network := range c.overlay {
		if network.Contains(address) {
			return false
		}
	}
	return true
}

func (c *Client) peerPresent(info map[string]any) {
	key := fmt.Sprint(info["public_key"])
	c.lock.Lock()
	if _, known := c.links[key]; known {
		c.lock.Unlock()
		return
	}
	link, err := NewPeerLink(c, info)
	if err != nil {
		c.lock.Unlock()
		logf("peer %s: %v", key, err)
		return
	}
	c.links[key] = link
	c.lock.Unlock()
	logf("peer %v %s: %s", info["name"], key[:8], map[bool]string{true: "we control", false: "it controls"}[link.controlling])
	if link.controlling {
		go link.Offer()
	}
}

// SetPath records a peer's configured path and rewrites the status file.
func (c *Client) SetPath(key string, path map[string]any) {
	c.lock.Lock()
	defer c.lock.Unlock()
	c.paths[key] = path
	c.writeStatusLocked()
}

func (c *Client) writeStatusLocked() {
	status := map[string]any{"self": c.selfInfo}
	for key, path := range c.paths {
		status[key] = path
	}
	temporary := c.options.StatusFile + ".new"
	if err := os.WriteFile(temporary, encode(status), 0o644); err == nil {
		_ = os.Rename(temporary, c.options.StatusFile)
	}
}

func min(a, b int) int {
	if a < b {
		return a
	}
	return b
}
