package test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Baresip is one running baresip agent, driven over its ctrl_tcp socket.
type Baresip struct {
	t      testing.TB
	Dir    string
	Dump   string
	Port   int
	Tone   float64 // the frequency it plays
	cmd    *exec.Cmd
	ctrl   net.Conn
	mu     sync.Mutex
	events []map[string]any
	out    syncBuffer
}

// BaresipOptions describe an agent.
type BaresipOptions struct {
	User, Password string
	SB             *SB
	Transport      string // udp (default), tcp or tls
	ToneHz         int
	Codecs         string // audio_codecs, default PCMU
	Extra          string // extra account parameters
	Register       bool
	// Modules are the codec modules loaded (default g711, g722, opus). As
	// a callee baresip answers with any loaded codec, whatever Codecs says.
	Modules []string
	// ServerPort is Switchboard's port for the account (default SB.SIPPort;
	// a tls:// listener has its own).
	ServerPort int
	// CAFile, when set, is baresip's sip_cafile: the CA its TLS client trusts.
	CAFile string
	// ListenPort, when set, is the agent's port (from its own instance()
	// block), for a test that must name it before the agent starts.
	ListenPort int
	// Certificate, when set, is baresip's sip_certificate (a PEM file with
	// certificate and key): it then listens for TLS on Port+1 and presents
	// it as a TLS client too.
	Certificate string
	// Config adds lines to baresip's config (e.g. "rtcp_mux yes\n").
	Config string
	// Source, when set, is the WAV aufile plays instead of the generated
	// tone (its rate and channels must be the codec's).
	Source string
}

// startBaresip starts an agent that registers (optionally) to sb and plays
// a tone; what it hears is dumped to Dump/*-dec.wav.
func startBaresip(t testing.TB, o BaresipOptions) *Baresip {
	t.Helper()
	requireTool(t, "baresip")
	port := o.ListenPort
	if port == 0 {
		port = 15000 + 10*instance()
	}
	b := &Baresip{t: t, Dir: t.TempDir(), Port: port, Tone: float64(o.ToneHz)}
	b.Dump = filepath.Join(b.Dir, "dump")
	_ = os.MkdirAll(b.Dump, 0o755)
	tone := filepath.Join(b.Dir, "tone.wav")
	// baresip 1.0 has no resampler: aufile's WAV must have the rate and
	// channels of the codec in use (the first of Codecs).
	rate, channels := 8000, 1
	switch first, _, _ := strings.Cut(o.Codecs, ","); {
	case strings.HasPrefix(first, "opus"):
		rate, channels = 48000, 2
	case strings.HasPrefix(first, "G722"):
		rate = 16000
	}
	if o.Source != "" {
		tone = o.Source
	} else if err := writeToneChannels(tone, rate, channels, o.ToneHz, 60, 0.3); err != nil {
		t.Fatal(err)
	}
	rtpLo, _ := mediaRange()
	ctrlPort := b.Port + 5 // baresip takes UDP/TCP Port and TLS Port+1
	if o.Codecs == "" {
		o.Codecs = "PCMU"
	}
	if o.Transport == "" {
		o.Transport = "udp"
	}
	if len(o.Modules) == 0 {
		o.Modules = []string{"g711", "g722", "opus"}
	}
	if o.ServerPort == 0 {
		o.ServerPort = o.SB.SIPPort
	}
	var mods strings.Builder
	if o.CAFile != "" {
		fmt.Fprintf(&mods, "sip_cafile %s\n", o.CAFile)
	}
	if o.Certificate != "" {
		fmt.Fprintf(&mods, "sip_certificate %s\n", o.Certificate)
	}
	for _, m := range o.Modules {
		fmt.Fprintf(&mods, "module %s.so\n", m)
	}
	mods.WriteString(o.Config)
	cfg := fmt.Sprintf(`module_path /usr/lib/baresip/modules
sip_listen 127.0.0.1:%d
net_interface 127.0.0.1
audio_source aufile,%s
audio_player aubridge,nowhere%d
audio_alert aubridge,nowhere%d
rtp_ports %d-%d
%smodule aufile.so
module aubridge.so
module sndfile.so
module_tmp account.so
module_app menu.so
module_app ctrl_tcp.so
ctrl_tcp_listen 127.0.0.1:%d
snd_path %s
`, b.Port, tone, b.Port, b.Port, rtpLo, rtpLo+100, mods.String(), ctrlPort, b.Dump)
	regint := 0
	if o.Register {
		regint = 600
	}
	acct := fmt.Sprintf("<sip:%s@127.0.0.1:%d;transport=%s>;auth_pass=%s;regint=%d;answermode=auto;audio_codecs=%s%s\n",
		o.User, o.ServerPort, o.Transport, o.Password, regint, o.Codecs, o.Extra)
	if err := os.WriteFile(filepath.Join(b.Dir, "config"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.Dir, "accounts"), []byte(acct), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = os.WriteFile(filepath.Join(b.Dir, "contacts"), nil, 0o644)
	b.cmd = exec.Command("baresip", "-f", b.Dir)
	b.cmd.Dir = b.Dir
	b.cmd.Stdout, b.cmd.Stderr = &b.out, &b.out
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.stop)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", ctrlPort))
		if err == nil {
			b.ctrl = c
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("baresip ctrl_tcp not up: %v\n%s", err, b.out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	go b.readEvents()
	if o.Register {
		// Registration may finish before the control socket is up: read the log.
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(b.out.String(), "200 OK") && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if !strings.Contains(b.out.String(), "200 OK") {
			t.Fatalf("baresip %s did not register\n%s", o.User, tail(b.out.String(), 3000))
		}
	}
	return b
}

// waitOrKill waits for a process told to stop, killing it after within.
func waitOrKill(cmd *exec.Cmd, within time.Duration) {
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(within):
		_ = cmd.Process.Kill()
		<-done
	}
}

func (b *Baresip) stop() {
	if b.ctrl != nil {
		b.ctrl.Close()
	}
	if b.cmd != nil && b.cmd.Process != nil {
		_ = b.cmd.Process.Signal(syscall.SIGTERM)
		waitOrKill(b.cmd, 3*time.Second)
	}
	if b.t.Failed() {
		b.t.Logf("baresip output (%s):\n%s", b.Dir, tail(b.out.String(), 4000))
	}
}

// readEvents parses ctrl_tcp netstrings ("len:json,").
func (b *Baresip) readEvents() {
	r := bufio.NewReader(b.ctrl)
	for {
		lenStr, err := r.ReadString(':')
		if err != nil {
			return
		}
		n, err := strconv.Atoi(strings.TrimSpace(lenStr[:len(lenStr)-1]))
		if err != nil || n < 0 || n > 1<<20 {
			return
		}
		buf := make([]byte, n+1)
		if _, err := io.ReadFull(r, buf); err != nil {
			return
		}
		var m map[string]any
		if json.Unmarshal(buf[:n], &m) == nil {
			b.mu.Lock()
			b.events = append(b.events, m)
			b.mu.Unlock()
		}
	}
}

// Command sends a menu command (without the slash), e.g. "dial sip:1001@127.0.0.1".
func (b *Baresip) Command(cmdline string) {
	name, params, _ := strings.Cut(cmdline, " ")
	msg, _ := json.Marshal(map[string]string{"command": name, "params": params, "token": "t"})
	_, err := fmt.Fprintf(b.ctrl, "%d:%s,", len(msg), msg)
	if err != nil {
		b.t.Fatalf("baresip command %q: %v", cmdline, err)
	}
}

// WaitEvent waits for an event type (e.g. CALL_ESTABLISHED) to have occurred.
func (b *Baresip) WaitEvent(typ string, within time.Duration) bool {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if b.HasEvent(typ) {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// HasEvent reports whether an event type was seen.
func (b *Baresip) HasEvent(typ string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range b.events {
		if e["type"] == typ {
			return true
		}
	}
	return false
}

// Heard returns the decoded audio of the agent's last call.
func (b *Baresip) Heard() ([]float64, int) {
	files, _ := filepath.Glob(filepath.Join(b.Dump, "*-dec.wav"))
	if len(files) == 0 {
		b.t.Fatalf("no -dec.wav dump in %s", b.Dump)
	}
	x, rate, err := readWAV(files[len(files)-1])
	if err != nil {
		b.t.Fatalf("read %s: %v", files[len(files)-1], err)
	}
	return x, rate
}

// TestBaresipUsersCallEachOther: two baresip users register with digest and
// call each other through Switchboard; each hears the other's tone.
func TestBaresipUsersCallEachOther(t *testing.T) {
	for _, tr := range []string{"udp", "tcp"} {
		t.Run(tr, func(t *testing.T) {
			sb := startSB(t, SBOptions{Users: []string{"1000", "1001"}})
			alice := startBaresip(t, BaresipOptions{User: "1000", Password: sb.Users["1000"], SB: sb, ToneHz: 440, Register: true, Transport: tr})
			bob := startBaresip(t, BaresipOptions{User: "1001", Password: sb.Users["1001"], SB: sb, ToneHz: 1000, Register: true, Transport: tr})
			rec := toneCall(t, sb, alice, bob, fmt.Sprintf("sip:1001@127.0.0.1:%d;transport=%s", sb.SIPPort, tr), 3*time.Second)
			if rec.HangupSide != "caller" {
				t.Fatalf("CDR %+v", rec)
			}
		})
	}
}

// toneCall has caller dial uri, talk for a while and hang up; the callee
// must answer, each must hear the other's tone, and the call must end in
// one answered CDR, returned.
func toneCall(t *testing.T, sb *SB, caller, callee *Baresip, uri string, talk time.Duration) CDR {
	t.Helper()
	caller.Command("dial " + uri)
	if !caller.WaitEvent("CALL_ESTABLISHED", 10*time.Second) || !callee.WaitEvent("CALL_ESTABLISHED", 5*time.Second) {
		t.Fatalf("call not established\n%s", tail(sb.Output(), 3000))
	}
	time.Sleep(talk)
	caller.Command("hangup")
	if !callee.WaitEvent("CALL_CLOSED", 5*time.Second) {
		t.Fatalf("callee did not see the hangup")
	}
	checkHeard(t, "caller", caller, callee.Tone, caller.Tone)
	checkHeard(t, "callee", callee, caller.Tone, callee.Tone)
	recs := sb.WaitCDRs(1, 5*time.Second)
	if len(recs) != 1 || recs[0].Disposition != "answered" {
		t.Fatalf("CDRs %+v", recs)
	}
	return recs[0]
}

// checkHeard asserts an agent heard want (and not other) with real energy.
func checkHeard(t *testing.T, who string, b *Baresip, want, other float64) {
	t.Helper()
	x, rate := b.Heard()
	active := activePart(x, 500)
	if len(active) < rate { // at least a second of sound
		t.Fatalf("%s heard %d samples of sound (of %d)", who, len(active), len(x))
	}
	f, share := dominant(active, rate, want, other)
	if f != want || share < 0.9 {
		t.Fatalf("%s heard %.0f Hz (share %.2f), want %.0f Hz", who, f, share, want)
	}
	if level := rms(active); level < 1000 {
		t.Fatalf("%s heard too little energy: rms %.0f", who, level)
	}
}
