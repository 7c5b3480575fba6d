package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/pion/ice/v2"
	"golang.org/x/crypto/nacl/box"
)

// Payload is a sealed signal's plaintext (§7): the envelope's fields again, and the body of its kind.
type Payload struct {
	Type       string               `json:"type"`
	From       string               `json:"from"`
	To         string               `json:"to"`
	Session    string               `json:"session"`
	Generation int64                `json:"generation"`
	ICE        *ICEDescription      `json:"ice,omitempty"`
	WireGuard  *WireGuardParameters `json:"wireguard,omitempty"`
	Candidate  string               `json:"candidate,omitempty"`
	RelayOnly  bool                 `json:"relay_only,omitempty"`
	Reason     string               `json:"reason,omitempty"`
}

// ICEDescription is an offer's or answer's ICE part.
type ICEDescription struct {
	Ufrag      string   `json:"ufrag"`
	Pwd        string   `json:"pwd"`
	Candidates []string `json:"candidates"`
}

// WireGuardParameters is an offer's or answer's WireGuard part.
type WireGuardParameters struct {
	PublicKey  string `json:"public_key"`
	ListenPort int    `json:"listen_port"`
}

// PeerLink is the ICE sessions with one riftgate peer (§8) and the WireGuard path over the selected pair (§9).
type PeerLink struct {
	client      *Client
	info        map[string]any
	key         string
	shared      [32]byte
	controlling bool

	lock             sync.Mutex
	session          string
	generation       int64
	agent            *ice.Agent
	cancel           context.CancelFunc
	conn             *ice.Conn
	forwarder        *Forwarder
	remoteHosts      map[string]bool
	remoteListenPort int
	configured       string
	localCredentials [2]string
}

// NewPeerLink precomputes the box with the peer and decides the roles (§8: the smaller key controls).
func NewPeerLink(client *Client, info map[string]any) (*PeerLink, error) {
	key := fmt.Sprint(info["public_key"])
	raw, err := base64.StdEncoding.DecodeString(key)
	if err != nil || len(raw) != 32 {
		return nil, fmt.Errorf("not a public key")
	}
	link := &PeerLink{client: client, info: info, key: key, generation: -1}
	var peer [32]byte
	copy(peer[:], raw)
	box.Precompute(&link.shared, &peer, &client.privateKey)
	link.controlling = bytes.Compare(client.publicKey[:], raw) < 0
	if link.controlling {
		session := make([]byte, 8)
		_, _ = rand.Read(session)
		link.session = hex.EncodeToString(session)
	}
	return link, nil
}

// send seals one signal of this link's session and generation (call with the lock held).
func (l *PeerLink) send(payload Payload) {
	payload.From, payload.To, payload.Session, payload.Generation = l.client.publicText, l.key, l.session, l.generation
	var nonce [24]byte
	_, _ = rand.Read(nonce[:])
	sealed := box.SealAfterPrecomputation(nil, encode(payload), &nonce, &l.shared)
	err := l.client.Send(map[string]any{"type": payload.Type, "to": l.key,
		"sealed": map[string]string{"nonce": b64(nonce[:]), "box": b64(sealed)}})
	if err != nil {
		logf("cannot send a %s: %v", payload.Type, err)
	}
}

// open returns the plaintext of a signal, or nil for one that does not open or whose sealed fields do not match.
func (l *PeerLink) open(kind, nonceText, boxText string) *Payload {
	nonceBytes, err1 := base64.StdEncoding.DecodeString(nonceText)
	sealed, err2 := base64.StdEncoding.DecodeString(boxText)
	if err1 != nil || err2 != nil || len(nonceBytes) != 24 {
		logf("discarded a %s with a malformed sealed box", kind)
		return nil
	}
	var nonce [24]byte
	copy(nonce[:], nonceBytes)
	plaintext, ok := box.OpenAfterPrecomputation(nil, sealed, &nonce, &l.shared)
	var payload Payload
	if !ok || json.Unmarshal(plaintext, &payload) != nil {
		logf("discarded a %s that does not open", kind)
		return nil
	}
	if payload.Type != kind || payload.From != l.key || payload.To != l.client.publicText {
		logf("discarded a %s whose sealed fields do not match its envelope", kind)
		return nil
	}
	return &payload
}

// newAgent replaces the generation's ICE agent and gathers its candidates completely (call with the lock held).
func (l *PeerLink) newAgent(relayOnly bool) ([]string, error) {
	l.closeAgent()
	l.remoteHosts = map[string]bool{}
	l.configured = ""
	types := []ice.CandidateType{ice.CandidateTypeHost, ice.CandidateTypeServerReflexive, ice.CandidateTypeRelay}
	if relayOnly {
		types = []ice.CandidateType{ice.CandidateTypeRelay}
	}
	l.client.lock.Lock()
	urls := l.client.urls
	l.client.lock.Unlock()
	agent, err := ice.NewAgent(&ice.AgentConfig{
		Urls: urls, NetworkTypes: []ice.NetworkType{ice.NetworkTypeUDP4, ice.NetworkTypeUDP6}, CandidateTypes: types,
		IPFilter: l.client.outsideOverlay,
	})
	if err != nil {
		return nil, err
	}
	// Read now: pion answers this on its own loop, which may later wait for our callbacks while we hold the lock.
	ufrag, pwd, err := agent.GetLocalUserCredentials()
	if err != nil {
		return nil, err
	}
	l.localCredentials = [2]string{ufrag, pwd}
	var lines []string
	done := make(chan struct{})
	_ = agent.OnCandidate(func(candidate ice.Candidate) {
		if candidate == nil {
			close(done)
			return
		}
		lines = append(lines, "candidate:"+candidate.Marshal())
	})
	generation := l.generation
	_ = agent.OnSelectedCandidatePairChange(func(local, remote ice.Candidate) { l.pairSelected(agent, generation, local, remote) })
	_ = agent.OnConnectionStateChange(func(state ice.ConnectionState) { l.stateChanged(agent, generation, state) })
	if err := agent.GatherCandidates(); err != nil {
		return nil, err
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		logf("gathering did not finish in 10 s; offering what was gathered")
	}
	l.agent = agent
	return lines, nil
}

func (l *PeerLink) description(lines []string) (*ICEDescription, *WireGuardParameters) {
	return &ICEDescription{Ufrag: l.localCredentials[0], Pwd: l.localCredentials[1], Candidates: append([]string{}, lines...)},
		&WireGuardParameters{PublicKey: l.client.publicText, ListenPort: WireGuardPort}
}

// Offer starts the next generation as the controlling side (§8).
func (l *PeerLink) Offer() {
	l.lock.Lock()
	defer l.lock.Unlock()
	l.generation++
	lines, err := l.newAgent(false)
	if err != nil {
		logf("cannot start ICE: %v", err)
		return
	}
	logf("offer generation %d to %s (%d candidates)", l.generation, l.key[:8], len(lines))
	ice, wireguard := l.description(lines)
	l.send(Payload{Type: "offer", ICE: ice, WireGuard: wireguard})
	l.send(Payload{Type: "end_of_candidates"})
}

// Receive handles one sealed signal from this peer.
func (l *PeerLink) Receive(kind, nonce, sealed string) {
	payload := l.open(kind, nonce, sealed)
	if payload == nil {
		return
	}
	l.lock.Lock()
	defer l.lock.Unlock()
	current := payload.Session == l.session && payload.Generation == l.generation
	switch {
	case kind == "offer" && !l.controlling:
		if current || (payload.Session == l.session && payload.Generation < l.generation) {
			return // a duplicate, or stale
		}
		l.session, l.generation = payload.Session, payload.Generation
		// §10.4: a relay-only offer makes this side gather relayed candidates only too.
		lines, err := l.newAgent(payload.RelayOnly)
		if err != nil || payload.ICE == nil || payload.WireGuard == nil {
			logf("cannot answer generation %d: %v", payload.Generation, err)
			return
		}
		l.acceptDescription(payload)
		logf("answer generation %d to %s (%d candidates%s)", l.generation, l.key[:8], len(lines),
			map[bool]string{true: ", relay only", false: ""}[payload.RelayOnly])
		ice, wireguard := l.description(lines)
		l.send(Payload{Type: "answer", ICE: ice, WireGuard: wireguard})
		l.send(Payload{Type: "end_of_candidates"})
		l.connect(payload.ICE.Ufrag, payload.ICE.Pwd)
	case kind == "answer" && l.controlling:
		if !current || payload.ICE == nil || payload.WireGuard == nil || l.conn != nil || l.cancel != nil {
			return
		}
		l.acceptDescription(payload)
		l.connect(payload.ICE.Ufrag, payload.ICE.Pwd)
	case kind == "candidate":
		if current && l.agent != nil {
			l.addCandidate(payload.Candidate)
		}
	case kind == "end_of_candidates":
		// pion has no end-of-candidates input; its checks run until they succeed or time out.
	case kind == "restart" && l.controlling:
		logf("restart asked by %s: %s", l.key[:8], payload.Reason)
		go l.Offer()
	}
}

func (l *PeerLink) acceptDescription(payload *Payload) {
	l.remoteListenPort = payload.WireGuard.ListenPort
	for _, line := range payload.ICE.Candidates {
		l.addCandidate(line)
	}
}

// addCandidate adds one signaled candidate; one pion cannot use is ignored (§10.2).
func (l *PeerLink) addCandidate(line string) {
	candidate, err := ice.UnmarshalCandidate(strings.TrimPrefix(line, "candidate:"))
	if err != nil {
		logf("ignored candidate %q: %v", line, err)
		return
	}
	if candidate.Component() != 1 || candidate.NetworkType().IsTCP() {
		return
	}
	if candidate.Type() == ice.CandidateTypeHost {
		l.remoteHosts[net.JoinHostPort(candidate.Address(), fmt.Sprint(candidate.Port()))] = true
	}
	if err := l.agent.AddRemoteCandidate(candidate); err != nil {
		logf("candidate %q refused: %v", line, err)
	}
}

// connect starts the checks: Dial as the controlling agent, Accept as the controlled one (call with the lock held).
func (l *PeerLink) connect(ufrag, pwd string) {
	agent, generation := l.agent, l.generation
	checks, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	go func() {
		var conn *ice.Conn
		var err error
		if l.controlling {
			conn, err = agent.Dial(checks, ufrag, pwd)
		} else {
			conn, err = agent.Accept(checks, ufrag, pwd)
		}
		if err != nil {
			logf("generation %d with %s did not connect: %v", generation, l.key[:8], err)
			return
		}
		l.lock.Lock()
		defer l.lock.Unlock()
		if l.agent != agent {
			return
		}
		l.conn = conn
		if pair, err := agent.GetSelectedCandidatePair(); err == nil && pair != nil {
			l.configure(pair.Local, pair.Remote, generation)
		}
	}()
}

func (l *PeerLink) pairSelected(agent *ice.Agent, generation int64, local, remote ice.Candidate) {
	l.lock.Lock()
	defer l.lock.Unlock()
	if l.agent == agent && l.conn != nil {
		l.configure(local, remote, generation) // a later nomination (§10.3)
	}
}

func (l *PeerLink) stateChanged(agent *ice.Agent, generation int64, state ice.ConnectionState) {
	logf("generation %d with %s: ICE %s", generation, l.key[:8], state)
	if state != ice.ConnectionStateFailed {
		return
	}
	l.lock.Lock()
	defer l.lock.Unlock()
	if l.agent != agent {
		return
	}
	if l.controlling {
		go func() { time.Sleep(time.Second); l.Offer() }()
	} else {
		l.send(Payload{Type: "restart", Reason: "ICE failed (pion)"})
	}
}

func describe(candidate ice.Candidate) string {
	return fmt.Sprintf("%s %s", candidate.Type(), net.JoinHostPort(candidate.Address(), fmt.Sprint(candidate.Port())))
}

// configure points WireGuard at the peer over the selected pair (§9; call with the lock held): straight to the
// peer's listen port for host ↔ host, otherwise to a loopback socket whose datagrams go onto the ICE component.
func (l *PeerLink) configure(local, remote ice.Candidate, generation int64) {
	name := describe(local) + " -> " + describe(remote)
	if name == l.configured {
		return
	}
	l.configured = name
	remoteAddress := net.JoinHostPort(remote.Address(), fmt.Sprint(remote.Port()))
	direct := local.Type() == ice.CandidateTypeHost && l.remoteHosts[remoteAddress]
	var endpoint string
	if direct {
		endpoint = net.JoinHostPort(remote.Address(), fmt.Sprint(l.remoteListenPort))
	} else {
		if l.forwarder == nil {
			forwarder, err := NewForwarder(l.conn)
			if err != nil {
				logf("cannot forward: %v", err)
				return
			}
			l.forwarder = forwarder
		}
		endpoint = l.forwarder.Endpoint()
	}
	allowed := []string{fmt.Sprint(l.info["ipv4"]) + "/32", fmt.Sprint(l.info["ipv6"]) + "/128"}
	if err := l.client.wireguard.SetPeer(l.key, endpoint, allowed, l.controlling); err != nil {
		logf("WireGuard: %v", err)
		return
	}
	if !l.controlling {
		// §9.5: the controlled side enables keepalive 250 ms after the controlling side; if both started their
		// handshakes at once, each would drop the answer to its own (WireGuard's handshake collision).
		wireguard, key := l.client.wireguard, l.key
		time.AfterFunc(250*time.Millisecond, func() {
			if err := wireguard.EnableKeepalive(key); err != nil {
				logf("WireGuard keepalive: %v", err)
			}
		})
	}
	path := map[bool]string{true: "direct", false: "forwarded"}[direct]
	logf("%s generation %d: %s %s", l.key[:8], generation, path, name)
	l.client.SetPath(l.key, map[string]any{"path": path, "generation": generation, "controlling": l.controlling,
		"local": describe(local), "remote": describe(remote)})
}

// closeAgent ends the current generation's ICE agent and forwarder (call with the lock held).
func (l *PeerLink) closeAgent() {
	if l.cancel != nil {
		l.cancel()
		l.cancel = nil
	}
	if l.forwarder != nil {
		l.forwarder.Close()
		l.forwarder = nil
	}
	if l.agent != nil {
		agent := l.agent
		go func() { _ = agent.Close() }()
		l.agent, l.conn = nil, nil
	}
}

// Close ends everything with this peer (it left).
func (l *PeerLink) Close() {
	l.lock.Lock()
	defer l.lock.Unlock()
	l.closeAgent()
}
