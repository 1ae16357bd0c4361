package b2bua

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/cdr"
	"github.com/switchboard/switchboard/config"
)

// lockedBuffer is a bytes.Buffer safe for the logger and the test at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// panicServer runs a Server with a trusted trunk on 127.0.0.2, user 1000
// and routes ^1\d{3}$ → user, ^666$ → user (the number the hook panics on),
// ^9(\d+)$ → trunk. hook is installed before the server listens. It returns
// the server, its UDP address, the records directory and the captured log.
func panicServer(t *testing.T, hook func(dialled string)) (*Server, string, string, *lockedBuffer) {
	t.Helper()
	cfg := &config.Config{}
	cfg.SIP.Listen = []string{"udp://127.0.0.1:5060"} // validated only; Listen below binds port 0
	cfg.SIP.Domain = "127.0.0.1"
	cfg.SIP.DigestAlgorithms = []string{"MD5"}
	cfg.Media.Address = "127.0.0.1"
	// A wide range: the engine skips ports other tests hold.
	cfg.Media.Ports = "44000-44999"
	cfg.State.Dir = t.TempDir()
	cfg.Records.Dir = t.TempDir()
	cfg.Users = []config.User{{Name: "1000", Password: "panic-test-secret"}}
	cfg.Trunks = []config.Trunk{{Name: "carrier", URI: "sip:127.0.0.2:5999", Trusted: []string{"127.0.0.2/32"}}}
	cfg.Routes = []config.Route{
		{Match: `^1\d{3}$`, To: "user"},
		{Match: `^666$`, To: "user"},
		{Match: `^9(\d+)$`, To: "trunk:carrier", Rewrite: "$1"},
	}
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	logs := &lockedBuffer{}
	s, err := New(cfg, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	s.callHook = hook
	if err := s.Listen(context.Background(), loopbackListeners("udp")); err != nil {
		_ = s.Close()
		t.Fatalf("Listen: %v", err)
	}
	t.Cleanup(func() {
		_ = s.Close()
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return s, serverAddr(t, s, "udp"), cfg.Records.Dir, logs
}

// trunkPeer is a raw UDP SIP peer bound on the trusted trunk address.
type trunkPeer struct {
	t    *testing.T
	conn *net.UDPConn
	srv  *net.UDPAddr
	n    int
}

func newTrunkPeer(t *testing.T, srvAddr string) *trunkPeer {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)})
	if err != nil {
		t.Skipf("cannot bind 127.0.0.2 (needs the whole 127/8 on loopback): %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	ra, err := net.ResolveUDPAddr("udp", srvAddr)
	if err != nil {
		t.Fatal(err)
	}
	return &trunkPeer{t: t, conn: conn, srv: ra}
}

// request sends a request (INVITE with an SDP offer, or OPTIONS) for user
// and returns the final response, ACKing a final INVITE response. It fails
// the test when none arrives within 5 s.
func (p *trunkPeer) request(method, user string) *sip.Response {
	p.t.Helper()
	p.n++
	laddr := p.conn.LocalAddr().(*net.UDPAddr)
	branch := fmt.Sprintf("z9hG4bK-panic-%d-%d", time.Now().UnixNano(), p.n)
	callID := fmt.Sprintf("panic-%d-%d@127.0.0.2", time.Now().UnixNano(), p.n)
	via := fmt.Sprintf("Via: SIP/2.0/UDP %s;branch=%s;rport", laddr, branch)
	from := "From: <sip:carrier@127.0.0.2>;tag=peer" + fmt.Sprint(p.n)
	to := fmt.Sprintf("To: <sip:%s@%s>", user, p.srv)
	body := ""
	if method == "INVITE" {
		body = "v=0\r\no=- 1 1 IN IP4 127.0.0.2\r\ns=-\r\nc=IN IP4 127.0.0.2\r\nt=0 0\r\n" +
			"m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n"
	}
	lines := []string{
		fmt.Sprintf("%s sip:%s@%s SIP/2.0", method, user, p.srv), via, "Max-Forwards: 70", from, to,
		"Call-ID: " + callID, "CSeq: 1 " + method, fmt.Sprintf("Contact: <sip:carrier@%s>", laddr),
	}
	if body != "" {
		lines = append(lines, "Content-Type: application/sdp")
	}
	lines = append(lines, fmt.Sprintf("Content-Length: %d", len(body)))
	msg := strings.Join(lines, "\r\n") + "\r\n\r\n" + body
	if _, err := p.conn.WriteToUDP([]byte(msg), p.srv); err != nil {
		p.t.Fatalf("send %s: %v", method, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	buf := make([]byte, 65536)
	for time.Now().Before(deadline) {
		_ = p.conn.SetReadDeadline(deadline)
		n, _, err := p.conn.ReadFromUDP(buf)
		if err != nil {
			break
		}
		m, err := sip.ParseMessage(append([]byte(nil), buf[:n]...))
		if err != nil {
			p.t.Fatalf("unparsable answer: %v\n%s", err, buf[:n])
		}
		res, ok := m.(*sip.Response)
		if !ok || res.CallID() == nil || res.CallID().Value() != callID || res.StatusCode < 200 {
			continue
		}
		if method == "INVITE" {
			// RFC 3261 §17.1.1.3: the ACK of a non-2xx final shares the INVITE's branch.
			toHdr := "To: " + res.To().Value()
			ack := strings.Join([]string{
				fmt.Sprintf("ACK sip:%s@%s SIP/2.0", user, p.srv), via, "Max-Forwards: 70", from, toHdr,
				"Call-ID: " + callID, "CSeq: 1 ACK", "Content-Length: 0",
			}, "\r\n") + "\r\n\r\n"
			_, _ = p.conn.WriteToUDP([]byte(ack), p.srv)
		}
		return res
	}
	p.t.Fatalf("%s %s: no final response within 5s", method, user)
	return nil
}

// readRecords reads every CDR in dir.
func readRecords(t *testing.T, dir string) []cdr.Record {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	var out []cdr.Record
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if len(bytes.TrimSpace(sc.Bytes())) == 0 {
				continue
			}
			var r cdr.Record
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Errorf("bad CDR line %q: %v", sc.Text(), err)
				continue
			}
			out = append(out, r)
		}
		fh.Close()
	}
	return out
}

// waitRecord waits (bounded) for the CDR of the caller-side Call-ID.
func waitRecord(t *testing.T, dir, aCallID string) (cdr.Record, int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var found []cdr.Record
		for _, r := range readRecords(t, dir) {
			if r.ACallID == aCallID {
				found = append(found, r)
			}
		}
		if len(found) > 0 || time.Now().After(deadline) {
			if len(found) == 0 {
				return cdr.Record{}, 0
			}
			return found[0], len(found)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestPanicInCallIsContained: a panic at the start of one call's goroutine
// ends that call with 500 and a CDR, is logged with its value, and leaves
// the server answering OPTIONS and processing other calls.
func TestPanicInCallIsContained(t *testing.T) {
	s, addr, recDir, logs := panicServer(t, func(dialled string) {
		if dialled == "666" {
			panic("boom: injected by TestPanicInCallIsContained")
		}
	})
	peer := newTrunkPeer(t, addr)

	// The panicking call, twice: the second proves the first left nothing
	// wedged (dialog table, call count, transaction layer).
	for i := range 2 {
		res := peer.request("INVITE", "666")
		if res.StatusCode != 500 {
			t.Fatalf("INVITE 666 #%d: got %d %s, want 500", i+1, res.StatusCode, res.Reason)
		}
		rec, n := waitRecord(t, recDir, res.CallID().Value())
		if n != 1 {
			t.Fatalf("INVITE 666 #%d: %d CDRs for Call-ID %s, want exactly 1", i+1, n, res.CallID().Value())
		}
		if rec.Status != 500 || rec.Disposition != cdr.Failed || rec.HangupSide != cdr.HangupSwitchboard || rec.Dialled != "666" {
			t.Errorf("panicked call CDR: status=%d disposition=%q side=%q dialled=%q, want 500/failed/switchboard/666",
				rec.Status, rec.Disposition, rec.HangupSide, rec.Dialled)
		}
	}
	log := logs.String()
	if !strings.Contains(log, "panic in call") || !strings.Contains(log, "boom: injected") {
		t.Errorf("log does not record the panic and its value")
	}
	if !strings.Contains(log, "panic_test.go") {
		t.Errorf("log has no stack trace pointing at the panic site")
	}

	// The server still serves: OPTIONS, and calls that do not panic go
	// through the whole path (1000 is a known user, not registered: 480).
	if res := peer.request("OPTIONS", "1000"); res.StatusCode != 200 {
		t.Errorf("OPTIONS after the panic: %d, want 200", res.StatusCode)
	}
	res := peer.request("INVITE", "1000")
	if res.StatusCode != 480 {
		t.Errorf("INVITE 1000 after the panic: %d %s, want 480 (user not registered)", res.StatusCode, res.Reason)
	}
	if rec, n := waitRecord(t, recDir, res.CallID().Value()); n != 1 || rec.Status != 480 {
		t.Errorf("INVITE 1000: %d CDRs (status %d), want one with 480", n, rec.Status)
	}

	// Every call, panicked or not, released its slot; a drain with no calls
	// returns at once.
	deadline := time.Now().Add(5 * time.Second)
	for s.activeCalls() != 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := s.activeCalls(); n != 0 {
		t.Fatalf("%d calls still registered after all ended", n)
	}
	start := time.Now()
	s.Drain(3 * time.Second)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Drain took %v with no calls: a panicked call still holds the wait group", d)
	}
	if n := len(readRecords(t, recDir)); n != 3 {
		t.Errorf("%d CDRs in total, want 3 (one per call)", n)
	}
}
