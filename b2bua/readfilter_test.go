package b2bua

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/test/sipcorpus"
)

// answerLog records what the filter would have written to the wire.
type answerLog struct {
	mu  sync.Mutex
	res []*sip.Response
}

func (a *answerLog) write(_ sip.TransportReadProps, res *sip.Response) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.res = append(a.res, res)
	return nil
}

func (a *answerLog) take() []*sip.Response {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := a.res
	a.res = nil
	return out
}

func testServer() *Server {
	return &Server{log: slog.New(slog.NewTextHandler(io.Discard, nil)), userAgent: "Switchboard-test"}
}

// newTestFilter returns a filter whose answers go to the returned log and
// whose clock is fixed at the returned time pointer.
func newTestFilter() (*readFilter, *answerLog, *time.Time) {
	f := newReadFilter(testServer())
	log := &answerLog{}
	f.write = log.write
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	f.now = func() time.Time { return now }
	return f, log, &now
}

var (
	testUDP = sip.TransportReadProps{
		Transport:  "UDP",
		LocalAddr:  &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5060},
		RemoteAddr: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000},
	}
	testTCP = sip.TransportReadProps{
		Transport:  "TCP",
		LocalAddr:  &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5060},
		RemoteAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000},
	}
)

// sipMsg joins lines with CRLF and ends the header section.
func sipMsg(lines ...string) string { return strings.Join(lines, "\r\n") + "\r\n\r\n" }

// normalInvite is a typical phone INVITE with SDP: the benchmark's subject.
var normalInvite = sipMsg(
	"INVITE sip:1001@pbx.example.com SIP/2.0",
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;rport",
	"Max-Forwards: 70",
	`From: "Alice" <sip:1000@pbx.example.com>;tag=1928301774`,
	"To: <sip:1001@pbx.example.com>",
	"Call-ID: a84b4c76e66710@pc33.example.com",
	"CSeq: 314159 INVITE",
	"Contact: <sip:1000@192.0.2.10:5060;transport=udp>",
	"Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE",
	"Supported: replaces, timer",
	"User-Agent: Phone/1.0",
	"Content-Type: application/sdp",
	"Content-Length: 153",
) + "v=0\r\no=alice 2890844526 2890844526 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n"

func TestNormalInviteLength(t *testing.T) {
	_, body, _ := strings.Cut(normalInvite, "\r\n\r\n")
	if len(body) != 153 {
		t.Fatalf("normalInvite body is %d bytes, Content-Length says 153", len(body))
	}
}

func TestScanMessage(t *testing.T) {
	base := func(extra ...string) string {
		lines := []string{
			"OPTIONS sip:u@example.com SIP/2.0",
			"Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1",
			"From: <sip:a@example.com>;tag=1",
			"To: sip:u@example.com",
			"Call-ID: x",
			"CSeq: 1 OPTIONS",
		}
		return sipMsg(append(lines, extra...)...)
	}
	tests := []struct {
		name string
		msg  string
		kind scanKind
		code int
	}{
		{"clean", base("Content-Length: 0"), scanClean, 0},
		{"clean invite", normalInvite, scanClean, 0},
		{"compact forms", sipMsg("OPTIONS sip:u@example.com SIP/2.0", "v: SIP/2.0/UDP h;branch=z9hG4bK1", "f: <sip:a@b>;tag=1", "t: sip:u@b", "i: x", "CSeq: 1 OPTIONS", "l: 0"), scanClean, 0},
		{"folded header", base("Subject: a", " b"), scanClean, 0},
		{"folded typed header", base("Contact: <sip:a@b>", " ;expires=1"), scanSuspicious, 0},
		{"contact list", base("Contact: <sip:a@b>, <sip:c@d>"), scanClean, 0},
		{"route list leading space plain uri", base("Route: <sip:a@b;lr>, sip:c@d"), scanSuspicious, 0},
		{"via list", base("Via: SIP/2.0/UDP a, SIP/2.0/UDP b"), scanSuspicious, 0},
		{"unterminated quote", base(`Contact: "Bob <sip:a@b>`), scanSuspicious, 0},
		{"missing >", base("Contact: <sip:a@b"), scanSuspicious, 0},
		{"bad port", base("Contact: <sip:a@b:x5>"), scanSuspicious, 0},
		{"ipv6 ok", base("Contact: <sip:a@[2001:db8::1]:5060>"), scanClean, 0},
		{"ipv6 no bracket end", base("Contact: <sip:a@[2001:db8::1>"), scanSuspicious, 0},
		{"digit in header uri scheme", base("Contact: <h323:a@b>"), scanSuspicious, 0},
		{"wildcard from", sipMsg("OPTIONS sip:u@b SIP/2.0", "Via: SIP/2.0/UDP h;branch=z9hG4bK1", "From: *", "To: sip:u@b", "Call-ID: x", "CSeq: 1 OPTIONS"), scanSuspicious, 0},
		{"cseq too big", base("CSeq: 2147483648 OPTIONS"), scanSuspicious, 0},
		{"cseq max", sipMsg("OPTIONS sip:u@b SIP/2.0", "CSeq: 2147483647 OPTIONS"), scanClean, 0},
		{"max-forwards overflow", base("Max-Forwards: 4294967296"), scanSuspicious, 0},
		{"empty call-id", base("Call-ID:"), scanSuspicious, 0},
		{"no colon", base("Garbage line"), scanSuspicious, 0},
		{"bare LF", "OPTIONS sip:u@b SIP/2.0\r\nVia: SIP/2.0/UDP h\nTo: sip:u@b\r\n\r\n", scanSuspicious, 0},
		{"two content-length", base("Content-Length: 0", "l: 0"), scanReject, 400},
		{"negative content-length", base("Content-Length: -1"), scanReject, 400},
		{"version 3.0", "OPTIONS sip:u@b SIP/3.0\r\n\r\n", scanReject, 505},
		{"version garbage", "OPTIONS sip:u@b HTTP/1.1\r\n\r\n", scanReject, 400},
		{"lowercase version", "OPTIONS sip:u@b sip/2.0\r\n\r\n", scanSuspicious, 0},
		{"tel scheme", "INVITE tel:+15551234 SIP/2.0\r\n\r\n", scanReject, 416},
		{"bad scheme", "INVITE 1abc:x SIP/2.0\r\n\r\n", scanReject, 400},
		{"two spaces", "INVITE  sip:u@b SIP/2.0\r\n\r\n", scanReject, 400},
		{"angle uri", "INVITE <sip:u@b> SIP/2.0\r\n\r\n", scanReject, 400},
		{"trailing space", "INVITE sip:u@b SIP/2.0 \r\n\r\n", scanReject, 400},
		{"wildcard ruri", "INVITE sip:* SIP/2.0\r\n\r\n", scanSuspicious, 0},
		{"response", sipMsg("SIP/2.0 200 OK", "Via: SIP/2.0/UDP h;branch=z9hG4bK1", "CSeq: 1 INVITE", "Content-Length: 0"), scanClean, 0},
		{"response big code", "SIP/2.0 65536 Big\r\n\r\n", scanSuspicious, 0},
		{"response no reason sp", "SIP/2.0 200\r\n\r\n", scanSuspicious, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := scanMessage([]byte(tc.msg))
			if r.kind != tc.kind || r.code != tc.code {
				t.Fatalf("scan = kind %d code %d (%s), want kind %d code %d", r.kind, r.code, r.detail, tc.kind, tc.code)
			}
			if r.kind == scanClean {
				if _, err := sip.ParseMessage([]byte(tc.msg)); err != nil {
					t.Fatalf("scan says clean but sipgo fails: %v", err)
				}
			}
		})
	}
}

func TestReadFilterDatagram(t *testing.T) {
	invNoRport := strings.Replace(normalInvite, ";rport", "", 1)
	tests := []struct {
		name string
		in   string
		out  string // expected bytes handed to sipgo; "" for none
		code int    // expected answer; 0 for none
	}{
		{"normal invite untouched", normalInvite, normalInvite, 0},
		{"rport added", invNoRport, normalInvite, 0},
		{"no rport in a multi-value top Via", sipMsg("OPTIONS sip:u@b SIP/2.0", "Via: SIP/2.0/UDP h;branch=z9hG4bK1 , SIP/2.0/UDP g;branch=z9hG4bK2", "From: <sip:a@b>;tag=1", "To: sip:u@b", "Call-ID: x", "CSeq: 1 OPTIONS"),
			sipMsg("OPTIONS sip:u@b SIP/2.0", "Via: SIP/2.0/UDP h;branch=z9hG4bK1 , SIP/2.0/UDP g;branch=z9hG4bK2", "From: <sip:a@b>;tag=1", "To: sip:u@b", "Call-ID: x", "CSeq: 1 OPTIONS"), 0},
		{"rport added to a folded top Via", sipMsg("OPTIONS sip:u@b SIP/2.0", "Via: SIP/2.0/UDP h", " ;branch=z9hG4bK1", "From: <sip:a@b>;tag=1", "To: sip:u@b", "Call-ID: x", "CSeq: 1 OPTIONS"),
			sipMsg("OPTIONS sip:u@b SIP/2.0", "Via: SIP/2.0/UDP h", " ;branch=z9hG4bK1;rport", "From: <sip:a@b>;tag=1", "To: sip:u@b", "Call-ID: x", "CSeq: 1 OPTIONS"), 0},
		{"rport with value kept", strings.Replace(normalInvite, ";rport", ";rport=5062", 1), strings.Replace(normalInvite, ";rport", ";rport=5062", 1), 0},
		{"keep-alive", "\r\n\r\n", "\r\n\r\n", 0},
		{"leading CRLF stripped", "\r\n" + normalInvite, normalInvite, 0},
		{"trailing octets dropped", normalInvite + "garbage", normalInvite, 0},
		{"response passed", sipMsg("SIP/2.0 200 OK", "Via: SIP/2.0/UDP h;branch=z9hG4bK1", "From: <sip:a@b>;tag=1", "To: <sip:u@b>;tag=2", "Call-ID: x", "CSeq: 1 INVITE", "Content-Length: 0"),
			sipMsg("SIP/2.0 200 OK", "Via: SIP/2.0/UDP h;branch=z9hG4bK1", "From: <sip:a@b>;tag=1", "To: <sip:u@b>;tag=2", "Call-ID: x", "CSeq: 1 INVITE", "Content-Length: 0"), 0},
		{"broken response dropped", "SIP/2.0 99999 X\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCSeq: 1 INVITE\r\n\r\n", "", 0},
		{"junk dropped", "hello world\r\n\r\n", "", 0},
		{"bad version", strings.Replace(normalInvite, "SIP/2.0\r\n", "SIP/3.0\r\n", 1), "", 505},
		{"content-length beyond datagram", strings.Replace(normalInvite, "Content-Length: 153", "Content-Length: 999", 1), "", 400},
		{"bad cseq", strings.Replace(normalInvite, "CSeq: 314159", "CSeq: 99999999999", 1), "", 400},
		{"ack never answered", strings.Replace(strings.Replace(normalInvite, "INVITE sip", "ACK sip", 1), "SIP/2.0\r\n", "SIP/3.0\r\n", 1), "", 0},
		{"no via: cannot answer", "INVITE sip:u@b SIP/3.0\r\nCSeq: 1 INVITE\r\n\r\n", "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, log, _ := newTestFilter()
			buf := make([]byte, len(tc.in), 4096) // spare capacity, as sipgo's read buffer has
			copy(buf, tc.in)
			out, err := f.filter(testUDP, buf)
			if err != nil {
				t.Fatalf("filter error on UDP: %v", err)
			}
			if string(out) != tc.out {
				t.Fatalf("out =\n%q\nwant\n%q", out, tc.out)
			}
			answers := log.take()
			switch {
			case tc.code == 0 && len(answers) > 0:
				t.Fatalf("unexpected answer %d", answers[0].StatusCode)
			case tc.code != 0 && len(answers) != 1:
				t.Fatalf("got %d answers, want one %d", len(answers), tc.code)
			case tc.code != 0 && answers[0].StatusCode != tc.code:
				t.Fatalf("answer %d, want %d", answers[0].StatusCode, tc.code)
			}
		})
	}
}

func TestReadFilterAnswerEchoesHeaders(t *testing.T) {
	f, log, _ := newTestFilter()
	msg := sipMsg(
		"INVITE  sip:u@example.com SIP/2.0",
		"Via: SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bKa",
		"v: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bKb",
		`From: "A" <sip:a@example.com>;tag=ft`,
		"t: <sip:u@example.com>",
		"Call-ID: cid-1",
		"CSeq: 7 INVITE",
		"Content-Length: 0",
	)
	if out, _ := f.filter(testUDP, []byte(msg)); out != nil {
		t.Fatalf("malformed request passed on: %q", out)
	}
	answers := log.take()
	if len(answers) != 1 {
		t.Fatalf("%d answers, want 1", len(answers))
	}
	// What goes on the wire must parse, and match the request's transaction.
	res, err := sip.ParseMessage([]byte(answers[0].String()))
	if err != nil {
		t.Fatalf("answer does not parse: %v\n%s", err, answers[0])
	}
	r := res.(*sip.Response)
	if r.StatusCode != 400 {
		t.Fatalf("status %d, want 400", r.StatusCode)
	}
	vias := r.GetHeaders("Via")
	if len(vias) != 2 || !strings.Contains(vias[0].Value(), "branch=z9hG4bKa") || !strings.Contains(vias[1].Value(), "branch=z9hG4bKb") {
		t.Fatalf("Via not echoed in order: %v", vias)
	}
	if got, _ := r.From().Params.Get("tag"); got != "ft" {
		t.Fatalf("From tag %q, want ft", got)
	}
	if tag, _ := r.To().Params.Get("tag"); tag == "" {
		t.Fatalf("To has no tag: %s", r.To())
	}
	if r.CallID().Value() != "cid-1" || r.CSeq().SeqNo != 7 || r.CSeq().MethodName != sip.INVITE {
		t.Fatalf("Call-ID/CSeq not echoed: %s %s", r.CallID(), r.CSeq())
	}
	if w := r.GetHeader("Warning"); w == nil || !strings.HasPrefix(w.Value(), "399 127.0.0.1:5060 ") {
		t.Fatalf("Warning = %v", w)
	}
	if s := f.stats(); s.Answered != 1 || s.Passed != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestReadFilterRFC2543Branch(t *testing.T) {
	inv := sipMsg(
		"INVITE sip:b@example.com SIP/2.0",
		"Via: SIP/2.0/UDP gw.example.com",
		"From: <sip:a@example.com>",
		"To: sip:b@example.com",
		"Call-ID: 2543@gw",
		"CSeq: 5 INVITE",
		"Content-Length: 0",
	)
	ack := strings.Replace(strings.Replace(inv, "INVITE sip", "ACK sip", 1), "5 INVITE", "5 ACK", 1)
	ack = strings.Replace(ack, "To: sip:b@example.com", "To: sip:b@example.com;tag=x", 1)
	withTag := strings.Replace(inv, "<sip:a@example.com>", "<sip:a@example.com>;tag=9", 1)

	branchOf := func(msg string) string {
		f, _, _ := newTestFilter()
		out, _ := f.filter(testUDP, []byte(msg))
		m, err := sip.ParseMessage(out)
		if err != nil {
			t.Fatalf("parse: %v\n%s", err, out)
		}
		b, _ := m.(*sip.Request).Via().Params.Get("branch")
		return b
	}
	bi, ba := branchOf(inv), branchOf(ack)
	if !strings.HasPrefix(bi, "z9hG4bK-2543-") {
		t.Fatalf("INVITE branch %q: no synthesized branch", bi)
	}
	if bi != ba {
		t.Fatalf("ACK branch %q differs from INVITE branch %q", ba, bi)
	}
	if b := branchOf(withTag); b != "" {
		t.Fatalf("branch %q added although the From tag lets sipgo match", b)
	}
}

// streamOutcome feeds chunks of one TCP connection through the filter and
// sipgo's stream parser (with sipgo's keep-alive rule in front of it),
// plus a later read when the stream is due to close; it returns the answers and
// parsed messages ("400", "msg:OPTIONS"), sorted because within one read
// the filter answers before sipgo parses, then "close" if the filter closed
// the connection.
func streamOutcome(t testing.TB, f *readFilter, log *answerLog, chunks [][]byte) []string {
	t.Helper()
	var got []string
	closeErr, parseErr := feedStream(f, log, chunks,
		func(r *sip.Response) { got = append(got, fmt.Sprint(r.StatusCode)) },
		func(m sip.Message) {
			switch m := m.(type) {
			case *sip.Request:
				got = append(got, "msg:"+string(m.Method))
			case *sip.Response:
				got = append(got, fmt.Sprintf("res:%d", m.StatusCode))
			}
		}, nil)
	if parseErr != nil {
		return append(got, "sipgo-error:"+parseErr.Error())
	}
	slices.Sort(got)
	if closeErr != nil {
		got = append(got, "close")
	}
	return got
}

// feedStream pushes TCP chunks (and whatever the filter hands out on later
// reads) through the filter into a sipgo stream parser: answer sees each
// response the filter wrote back, msg each message sipgo parsed, drop (if
// set) each message the filter dropped. It stops at the filter's error
// (connection closed) or a sipgo parse error, and returns them.
func feedStream(f *readFilter, log *answerLog, chunks [][]byte, answer func(*sip.Response), msg func(sip.Message), drop func()) (closeErr, parseErr error) {
	ps := sip.NewParser().NewSIPStream()
	for i := 0; ; i++ {
		if i == len(chunks) {
			chunks = append(chunks, laterRead(f)...)
			if i == len(chunks) {
				return nil, nil
			}
		}
		c := chunks[i]
		buf := append(make([]byte, 0, len(c)+64), c...)
		dropped := f.stats().Dropped
		out, err := f.filter(testTCP, buf)
		for _, r := range log.take() {
			answer(r)
		}
		if drop != nil {
			for range f.stats().Dropped - dropped {
				drop()
			}
		}
		if err != nil {
			return err, nil
		}
		if len(out) == 0 || (len(out) <= 4 && len(bytes.Trim(out, "\r\n")) == 0) {
			continue
		}
		if perr := ps.ParseSIPStream(out, msg); perr != nil && !errors.Is(perr, sip.ErrParseSipPartial) {
			return nil, perr
		}
	}
}

// laterRead returns a keep-alive to feed when the filter has decided to
// close the test connection on its next read, so that a close due after
// good messages shows up as it would when the peer goes on sending.
func laterRead(f *readFilter) [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	if st := f.streams[connKeyOf(testTCP)]; st != nil && st.dead {
		return [][]byte{[]byte("\r\n\r\n")}
	}
	return nil
}

func TestReadFilterStream(t *testing.T) {
	opt := sipMsg("OPTIONS sip:u@b SIP/2.0", "Via: SIP/2.0/TCP h;branch=z9hG4bK1", "From: <sip:a@b>;tag=1", "To: sip:u@b", "Call-ID: x", "CSeq: 1 OPTIONS", "Content-Length: 0")
	bad := strings.Replace(opt, "OPTIONS sip:u@b", "OPTIONS  sip:u@b", 1)
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"one", opt, "msg:OPTIONS"},
		{"pipelined", opt + opt + normalInvite, "msg:INVITE msg:OPTIONS msg:OPTIONS"},
		{"bad one in the middle", opt + bad + opt, "400 msg:OPTIONS msg:OPTIONS"},
		{"answer and message sorted", bad + normalInvite, "400 msg:INVITE"},
		{"keep-alives between", "\r\n\r\n" + opt + "\r\n\r\n" + opt, "msg:OPTIONS msg:OPTIONS"},
		{"junk after short content-length", strings.Replace(normalInvite, "Content-Length: 153", "Content-Length: 100", 1) + opt, "msg:INVITE msg:OPTIONS"},
		{"incomplete body waits", strings.Replace(opt, "Content-Length: 0", "Content-Length: 10", 1) + "abc", ""},
		{"negative content-length closes", strings.Replace(opt, "Content-Length: 0", "Content-Length: -1", 1) + opt, "400 close"},
		{"no content-length closes", strings.Replace(opt, "Content-Length: 0\r\n", "", 1), "400 close"},
		{"response passes", sipMsg("SIP/2.0 180 Ringing", "Via: SIP/2.0/TCP h;branch=z9hG4bK1", "CSeq: 1 INVITE", "Content-Length: 0"), "res:180"},
		{"broken response dropped, stream kept", sipMsg("SIP/2.0 99999 X", "Via: SIP/2.0/TCP h;branch=z9hG4bK1", "CSeq: 1 INVITE", "Content-Length: 0") + opt, "msg:OPTIONS"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Whole, then split at every offset, then byte by byte: the
			// outcome must not depend on how TCP cut the stream.
			f, log, _ := newTestFilter()
			whole := strings.Join(streamOutcome(t, f, log, [][]byte{[]byte(tc.in)}), " ")
			if whole != tc.want {
				t.Fatalf("outcome %q, want %q", whole, tc.want)
			}
			for i := 1; i < len(tc.in); i++ {
				f, log, _ := newTestFilter()
				got := strings.Join(streamOutcome(t, f, log, [][]byte{[]byte(tc.in[:i]), []byte(tc.in[i:])}), " ")
				if got != tc.want {
					t.Fatalf("split at %d: outcome %q, want %q", i, got, tc.want)
				}
			}
			f, log, _ = newTestFilter()
			var bytewise [][]byte
			for i := range len(tc.in) {
				bytewise = append(bytewise, []byte{tc.in[i]})
			}
			if got := strings.Join(streamOutcome(t, f, log, bytewise), " "); got != tc.want {
				t.Fatalf("byte by byte: outcome %q, want %q", got, tc.want)
			}
		})
	}
}

func TestReadFilterStreamStaleState(t *testing.T) {
	f, log, now := newTestFilter()
	opt := sipMsg("OPTIONS sip:u@b SIP/2.0", "Via: SIP/2.0/TCP h;branch=z9hG4bK1", "From: <sip:a@b>;tag=1", "To: sip:u@b", "Call-ID: x", "CSeq: 1 OPTIONS", "Content-Length: 0")
	// A connection leaves half a message behind and goes away.
	if got := streamOutcome(t, f, log, [][]byte{[]byte(opt[:40])}); len(got) != 0 {
		t.Fatalf("partial message produced %v", got)
	}
	if len(f.streams) != 1 {
		t.Fatalf("%d stream states, want 1", len(f.streams))
	}
	// Long after, a new connection from the same address and port must not
	// inherit the remains.
	*now = now.Add(streamIdle + time.Second)
	if got := strings.Join(streamOutcome(t, f, log, [][]byte{[]byte(opt)}), " "); got != "msg:OPTIONS" {
		t.Fatalf("outcome %q after idle state", got)
	}
	*now = now.Add(streamIdle + time.Minute)
	streamOutcome(t, f, log, [][]byte{[]byte("\r\n\r\n")}) // any read sweeps
	if len(f.streams) != 0 {
		t.Fatalf("%d stream states left after sweep", len(f.streams))
	}
}

func TestRecoverHeaders(t *testing.T) {
	tests := []struct {
		name string
		msg  string
		ok   bool
		want recovered
	}{
		{"folded and compact", "INVITE sip:u@b SIP/2.0\r\nv: SIP/2.0/UDP h\r\n ;branch=z9hG4bK1\r\nf: <sip:a@b>\r\nt: sip:u@b\r\ni: c\r\nCSeq: 1\r\n  INVITE\r\n\r\nbody",
			true, recovered{method: "INVITE", ruri: "sip:u@b", vias: []string{"SIP/2.0/UDP h ;branch=z9hG4bK1"}, from: "<sip:a@b>", to: "sip:u@b", callID: "c", cseq: "1 INVITE"}},
		{"bare LF, no empty line", "OPTIONS sip:u@b SIP/2.0\nVia: SIP/2.0/UDP h\nCSeq: 2 OPTIONS\n",
			true, recovered{method: "OPTIONS", ruri: "sip:u@b", vias: []string{"SIP/2.0/UDP h"}, cseq: "2 OPTIONS"}},
		{"response", "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h\r\nCSeq: 1 INVITE\r\n\r\n", false, recovered{}},
		{"no cseq", "OPTIONS sip:u@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n\r\n", false, recovered{}},
		{"no via", "OPTIONS sip:u@b SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n", false, recovered{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := recoverHeaders([]byte(tc.msg))
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
			if ok && fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", tc.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestHasTagParam(t *testing.T) {
	tests := map[string]bool{
		"<sip:a@b>;tag=1":          true,
		"sip:a@b ; TAG = 1":        true,
		"<sip:a@b;tag=1>":          false, // a URI parameter, not the header's
		"sip:a@b;tagx=1":           false,
		`"x;tag=1" <sip:a@b>;q=1`:  false,
		`"x" <sip:a@b>;q=1;tag=zz`: true,
	}
	for v, want := range tests {
		if got := hasTagParam(v); got != want {
			t.Errorf("hasTagParam(%q) = %v, want %v", v, got, want)
		}
	}
}

// fuzzSeeds are the corpus messages, for the fuzz targets.
func fuzzSeeds(f *testing.F) {
	f.Add([]byte(normalInvite))
	cases, err := sipcorpus.Load(tortureDir)
	if err != nil {
		f.Fatal(err)
	}
	for _, c := range cases {
		f.Add(c.Data)
	}
}

// FuzzReadFilter checks the filter's contract on arbitrary bytes: no panic,
// whatever it hands to sipgo sipgo can parse (so a clean scan is never
// wrong, and the Via additions never break a message), its answers parse,
// and validate copes with whatever gets through. On a stream the outcome
// must not depend on where the bytes are split.
func FuzzReadFilter(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		rf, log, _ := newTestFilter()
		buf := append(make([]byte, 0, len(data)+64), data...)
		out, err := rf.filter(testUDP, buf)
		if err != nil {
			t.Fatalf("UDP filter returned an error: %v", err)
		}
		for _, res := range log.take() {
			if _, err := sip.ParseMessage([]byte(res.String())); err != nil {
				t.Fatalf("answer does not parse: %v\n%s", err, res)
			}
		}
		if len(out) > 0 && len(bytes.Trim(out, "\r\n")) > 0 {
			m, err := sip.ParseMessage(out)
			if err != nil {
				t.Fatalf("filter passed bytes sipgo cannot parse: %v\n%q", err, out)
			}
			if req, ok := m.(*sip.Request); ok {
				rf.s.validate(req) // must not panic on anything sipgo parses
			}
		}

		rf, log, _ = newTestFilter()
		whole := strings.Join(streamOutcome(t, rf, log, [][]byte{data}), " ")
		if strings.Contains(whole, "sipgo-error") {
			t.Fatalf("stream output breaks sipgo: %s\n%q", whole, data)
		}
		if len(data) > 1 {
			mid := len(data) / 2
			rf, log, _ = newTestFilter()
			split := strings.Join(streamOutcome(t, rf, log, [][]byte{data[:mid], data[mid:]}), " ")
			if split != whole {
				t.Fatalf("split outcome %q differs from whole %q\n%q", split, whole, data)
			}
		}
	})
}

func benchFilter(b *testing.B, info sip.TransportReadProps, msg string) {
	f, _, _ := newTestFilter()
	buf := make([]byte, len(msg), 32768)
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	b.ResetTimer()
	for range b.N {
		buf = buf[:len(msg)]
		copy(buf, msg)
		out, err := f.filter(info, buf)
		if err != nil || len(out) < len(msg) {
			b.Fatalf("filter: %v, %d bytes out", err, len(out))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/msg")
}

// BenchmarkReadFilter measures the filter on a normal INVITE: the cost it
// adds to every message before sipgo parses it.
func BenchmarkReadFilter(b *testing.B) {
	b.Run("udp", func(b *testing.B) { benchFilter(b, testUDP, normalInvite) })
	b.Run("udp-add-rport", func(b *testing.B) {
		benchFilter(b, testUDP, strings.Replace(normalInvite, ";rport", "", 1))
	})
	b.Run("tcp", func(b *testing.B) { benchFilter(b, testTCP, strings.Replace(normalInvite, "/UDP", "/TCP", 1)) })
}

// BenchmarkSipgoParse is the yardstick: sipgo's own parse of the same INVITE.
func BenchmarkSipgoParse(b *testing.B) {
	p := sip.NewParser()
	msg := []byte(normalInvite)
	b.ReportAllocs()
	for range b.N {
		if _, err := p.ParseSIP(msg); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/msg")
}
