package test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The browser phone (issue 11): headless Chromium driven by
// phone/driver.cjs (puppeteer-core) loads the phone Switchboard serves at
// /phone/ and registers and calls over SIP over WebSocket with JsSIP. Its
// fake microphone plays a tone file; what it hears is measured in the page
// (WebAudio AnalyserNode: dominant frequency and level).
//
// Chromium is heavy: the browser tests never run in parallel with each
// other (browserMu).

var (
	browserMu    sync.Mutex // held by the test running browsers
	ownerMu      sync.Mutex
	browserOwner testing.TB // that test (under ownerMu)
)

// lockBrowsers keeps the browsers of other tests out until t ends; a test
// may start several browsers.
func lockBrowsers(t testing.TB) {
	ownerMu.Lock()
	mine := browserOwner == t
	ownerMu.Unlock()
	if mine {
		return
	}
	browserMu.Lock()
	ownerMu.Lock()
	browserOwner = t
	ownerMu.Unlock()
	t.Cleanup(func() {
		ownerMu.Lock()
		browserOwner = nil
		ownerMu.Unlock()
		browserMu.Unlock()
	})
}

// Browser is one headless Chromium with phone pages, driven by
// phone/driver.cjs over a JSON line protocol.
type Browser struct {
	t     testing.TB
	cmd   *exec.Cmd
	in    io.WriteCloser
	lines chan string
	log   syncBuffer
	next  int
	Tone  float64 // the fake microphone's frequency
}

// startBrowser starts Chromium whose microphone plays toneHz (48 kHz WAV
// made here); it is stopped when the test ends.
func startBrowser(t testing.TB, toneHz int) *Browser {
	t.Helper()
	chromium := requireTool(t, "chromium")
	node := requireTool(t, "node")
	driver, err := filepath.Abs("../phone/driver.cjs")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("../phone/node_modules/puppeteer-core"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("phone/node_modules is missing under CI (make deps installs it): %v", err)
		}
		t.Skip("phone/node_modules missing: run make deps")
	}
	if _, err := os.Stat("../phone/static/jssip.min.js"); err != nil {
		t.Fatalf("phone/static/jssip.min.js missing (make deps builds it, before make build): %v", err)
	}
	lockBrowsers(t)
	dir := t.TempDir()
	tone := filepath.Join(dir, fmt.Sprintf("tone%d.wav", toneHz))
	if err := writeTone(tone, 48000, toneHz, 30, 0.3); err != nil {
		t.Fatal(err)
	}
	b := &Browser{t: t, lines: make(chan string, 16), Tone: float64(toneHz)}
	b.cmd = exec.Command(node, driver)
	b.cmd.Env = append(os.Environ(), "CHROMIUM="+chromium, "TONE_WAV="+tone, "PROFILE_DIR="+filepath.Join(dir, "profile"))
	b.cmd.Stderr = &b.log
	out, err := b.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if b.in, err = b.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("start browser driver: %v", err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			b.lines <- sc.Text()
		}
		close(b.lines)
	}()
	t.Cleanup(func() {
		_ = b.in.Close() // the driver closes the browser at EOF
		waitOrKill(b.cmd, 10*time.Second)
		if t.Failed() {
			t.Logf("browser log:\n%s", tail(b.log.String(), 6000))
		}
	})
	return b
}

// do sends one command and waits for its result.
func (b *Browser) do(cmd map[string]any, within time.Duration) (json.RawMessage, error) {
	b.next++
	cmd["id"] = b.next
	line, _ := json.Marshal(cmd)
	if _, err := b.in.Write(append(line, '\n')); err != nil {
		return nil, err
	}
	deadline := time.After(within)
	for {
		select {
		case l, ok := <-b.lines:
			if !ok {
				return nil, fmt.Errorf("driver exited")
			}
			var r struct {
				ID    int             `json:"id"`
				OK    bool            `json:"ok"`
				Value json.RawMessage `json:"value"`
				Error string          `json:"error"`
			}
			if err := json.Unmarshal([]byte(l), &r); err != nil || r.ID != b.next {
				continue
			}
			if !r.OK {
				return nil, fmt.Errorf("%s", r.Error)
			}
			return r.Value, nil
		case <-deadline:
			return nil, fmt.Errorf("no answer to %s within %v", line, within)
		}
	}
}

// Open loads the phone at url as page name (a context of its own).
func (b *Browser) Open(name, url string) {
	b.t.Helper()
	if _, err := b.do(map[string]any{"cmd": "open", "page": name, "url": url}, 30*time.Second); err != nil {
		b.t.Fatalf("open %s: %v", url, err)
	}
}

// Eval runs JavaScript in page name (a promise is awaited) and returns its
// JSON value; an error fails the test.
func (b *Browser) Eval(name, js string) json.RawMessage {
	b.t.Helper()
	v, err := b.TryEval(name, js)
	if err != nil {
		b.t.Fatalf("%s: %s: %v", name, js, err)
	}
	return v
}

// TryEval is Eval returning the error.
func (b *Browser) TryEval(name, js string) (json.RawMessage, error) {
	return b.do(map[string]any{"cmd": "eval", "page": name, "js": js}, 30*time.Second)
}

// Close closes page name's tab.
func (b *Browser) Close(name string) {
	b.t.Helper()
	if _, err := b.do(map[string]any{"cmd": "close", "page": name}, 15*time.Second); err != nil {
		b.t.Fatalf("close %s: %v", name, err)
	}
}

// PhoneInfo is sbPhone.info() of a page.
type PhoneInfo struct {
	Status     string `json:"status"`
	Registered bool   `json:"registered"`
	InCall     bool   `json:"inCall"`
	Ringing    bool   `json:"ringing"`
	Held       bool   `json:"held"`       // we held the call
	RemoteHeld bool   `json:"remoteHeld"` // the other party did
	CallID     string `json:"callID"`
	Ended      []struct {
		Why, Cause string
		Code       int
	} `json:"ended"`
}

// Info reads the phone's state.
func (b *Browser) Info(name string) PhoneInfo {
	b.t.Helper()
	var pi PhoneInfo
	if err := json.Unmarshal(b.Eval(name, "sbPhone.info()"), &pi); err != nil {
		b.t.Fatal(err)
	}
	return pi
}

// Heard is what a page measured of the received audio.
type Heard struct {
	Freq   float64 `json:"freq"`
	Level  float64 `json:"level"`
	Frames int     `json:"frames"`
}

// Measure listens in page name for ms milliseconds.
func (b *Browser) Measure(name string, ms int) Heard {
	b.t.Helper()
	var h Heard
	if err := json.Unmarshal(b.Eval(name, "sbPhone.measure("+strconv.Itoa(ms)+")"), &h); err != nil {
		b.t.Fatal(err)
	}
	return h
}

// phoneURL is the phone on sb's ws:// (secure false) or wss:// listener.
func phoneURL(sb *SB, secure bool) string {
	if secure {
		return fmt.Sprintf("https://127.0.0.1:%d/phone/", sb.WSPort+1)
	}
	return fmt.Sprintf("http://127.0.0.1:%d/phone/", sb.WSPort)
}

// login registers page name as user; it fails the test unless registered.
func login(b *Browser, sb *SB, name, user string) {
	b.t.Helper()
	b.Eval(name, fmt.Sprintf("sbPhone.login(%q, %q)", user, sb.Users[user]))
}

// TestPhoneRegistersOverWebSocket (issue 11, test a): the browser phone
// registers over ws:// and wss://; the binding is the connection's
// (transport WS/WSS, the browser's *.invalid Contact, transport=ws): a
// call to the user reaches the browser over its WebSocket (it rings and
// rejects with 486, which reaches the caller), and once the tab closes the
// binding is gone (480) — each call one CDR.
func TestPhoneRegistersOverWebSocket(t *testing.T) {
	for _, secure := range []bool{false, true} {
		name := map[bool]string{false: "ws", true: "wss"}[secure]
		t.Run(name, func(t *testing.T) {
			apiAddr := fmt.Sprintf("127.0.0.1:%d", 15000+10*instance())
			sb := startSB(t, SBOptions{Users: []string{"1000", "1001"}, WS: true, Extra: "api:\n  listen: " + apiAddr + "\n"})
			b := startBrowser(t, 440)
			b.Open("a", phoneURL(sb, secure))
			login(b, sb, "a", "1000")
			// The binding is visible in the operations API: over WS/WSS, with
			// the browser's .invalid contact and its connection's address.
			tr := strings.ToUpper(name)
			token, err := os.ReadFile(filepath.Join(sb.Dir, "state", "api_token"))
			if err != nil {
				t.Fatal(err)
			}
			code, body := apiDo(t, "GET", "http://"+apiAddr+"/api/v1/registrations", strings.TrimSpace(string(token)))
			var regs []struct{ User, Contact, Source, Transport string }
			if err := json.Unmarshal(body, &regs); code != 200 || err != nil || len(regs) != 1 {
				t.Fatalf("registrations: %d %s", code, body)
			}
			if r := regs[0]; r.User != "1000" || r.Transport != tr || !strings.Contains(r.Contact, ".invalid") ||
				!strings.Contains(r.Contact, "transport=ws") || !strings.HasPrefix(r.Source, "127.0.0.1:") {
				t.Fatalf("registration %+v, want user 1000 over %s with a .invalid transport=ws contact", r, tr)
			}

			dir := t.TempDir()
			port := 15000 + 10*instance()
			call := func(scn string) Sipp {
				return runSipp(t, dir, 40*time.Second, "-sf", scn, sb.Addr(), "-i", "127.0.0.1", "-p", strconv.Itoa(port),
					"-mi", "127.0.0.1", "-mp", strconv.Itoa(port+2), "-s", "1000", "-key", "user", "1001",
					"-au", "1001", "-ap", sb.Users["1001"], "-m", "1", "-timeout", "20s", "-timeout_error")
			}
			// The browser rejects the call it rings with: 486 reaches the caller.
			rejected := make(chan PhoneInfo, 1)
			go func() {
				v, err := b.TryEval("a", `(async () => {
					for (let i = 0; i < 200 && !sbPhone.info().ringing; i++) await new Promise(r => setTimeout(r, 50));
					const info = sbPhone.info();
					if (sbPhone.state.incoming) sbPhone.state.incoming.terminate({status_code: 486});
					return info; })()`)
				var pi PhoneInfo
				if err == nil {
					_ = json.Unmarshal(v, &pi)
				}
				rejected <- pi
			}()
			busy := writeScenario(t, "uac-busy", uacInvite(), `<recv response="180" optional="true"/>`, `<recv response="486"/>`, uacAckFinal())
			if r := call(busy); r.Err != nil {
				t.Fatalf("call to the browser: %v\n%s", r.Err, r.Out)
			}
			if pi := <-rejected; !pi.Ringing {
				t.Fatalf("the browser did not ring: %+v", pi)
			}

			// Closing the tab of a ringing browser closes the WebSocket: the
			// call fails at once (not at ring_timeout), and the binding goes.
			closed := make(chan error, 1)
			go func() {
				_, err := b.TryEval("a", `(async () => {
					for (let i = 0; i < 200 && !sbPhone.info().ringing; i++) await new Promise(r => setTimeout(r, 50));
					return sbPhone.info().ringing; })()`)
				if err == nil {
					_, err = b.do(map[string]any{"cmd": "close", "page": "a"}, 15*time.Second)
				}
				closed <- err
			}()
			start := time.Now()
			ringing := writeScenario(t, "uac-closed", uacInvite(), `<recv response="180"/>`, `<recv response="480"/>`, uacAckFinal())
			if r := call(ringing); r.Err != nil {
				t.Fatalf("call to a browser whose tab closes while ringing: %v\n%s", r.Err, r.Out)
			}
			if err := <-closed; err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d > 15*time.Second {
				t.Errorf("the call ended %v after the tab closed; ring_timeout is 30s", d)
			}
			if !sb.waitOutput("binding ended with its connection", 5*time.Second) {
				t.Fatal("closing the tab did not end the binding")
			}
			gone := writeScenario(t, "uac-gone", uacInvite(), `<recv response="480"/>`, uacAckFinal())
			if r := call(gone); r.Err != nil {
				t.Fatalf("call after the tab closed: %v\n%s", r.Err, r.Out)
			}
			recs := sb.WaitCDRs(3, 5*time.Second)
			if len(recs) != 3 || recs[0].Status != 486 || recs[1].Status != 480 || recs[2].Status != 480 {
				t.Fatalf("CDRs %+v, want 486, 480, 480", recs)
			}
		})
	}
}

// TestPhoneWebSocketHandshake: the handshake needs the sip subprotocol
// (RFC 7118 §4.1) and, from a browser, an allowed Origin (default: the
// server's own); the phone and its JsSIP come from Switchboard itself.
func TestPhoneWebSocketHandshake(t *testing.T) {
	sb := startSB(t, SBOptions{Users: []string{"1000"}, WS: true,
		Extra: "websocket:\n  allowed_origins: ['https://pbx.example.com']\n"})
	sb2 := startSB(t, SBOptions{Users: []string{"1000"}, WS: true})
	hs := func(sb *SB, origin, proto string) int {
		t.Helper()
		url := fmt.Sprintf("http://127.0.0.1:%d/ws", sb.WSPort)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "websocket")
		req.Header.Set("Sec-WebSocket-Version", "13")
		req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
		if proto != "" {
			req.Header.Set("Sec-WebSocket-Protocol", proto)
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("handshake: %v", err)
		}
		defer res.Body.Close()
		if res.StatusCode == 101 && res.Header.Get("Sec-WebSocket-Protocol") != "sip" {
			t.Errorf("101 without Sec-WebSocket-Protocol: sip: %v", res.Header)
		}
		return res.StatusCode
	}
	own := fmt.Sprintf("http://127.0.0.1:%d", sb2.WSPort)
	for _, c := range []struct {
		name         string
		sb           *SB
		origin, prot string
		want         int
	}{
		{"no subprotocol", sb2, "", "", 400},
		{"other subprotocol", sb2, "", "chat", 400},
		{"no origin (not a browser)", sb2, "", "sip", 101},
		{"own origin", sb2, own, "sip", 101},
		{"foreign origin", sb2, "https://evil.example", "sip", 403},
		{"listed origin", sb, "https://pbx.example.com", "sip", 101},
		{"unlisted own origin", sb, fmt.Sprintf("http://127.0.0.1:%d", sb.WSPort), "sip", 403},
	} {
		if got := hs(c.sb, c.origin, c.prot); got != c.want {
			t.Errorf("%s: status %d, want %d", c.name, got, c.want)
		}
	}
	// The page and JsSIP are served by Switchboard (nothing from a CDN).
	for _, p := range []string{"/phone/", "/phone/phone.js", "/phone/jssip.min.js", "/phone/config.json"} {
		res, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d%s", sb2.WSPort, p))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || len(body) == 0 {
			t.Errorf("GET %s: %d (%d bytes)", p, res.StatusCode, len(body))
		}
		if strings.Contains(string(body), "//cdn") || strings.Contains(string(body), "unpkg.com") {
			t.Errorf("%s refers to a CDN", p)
		}
	}
}
