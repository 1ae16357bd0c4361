package test

// Signaling end to end: calls that enter from a trusted trunk, forks that
// lose the race (and answer anyway), media inactivity, IPv6, and the small
// protocol rules a B2BUA must keep (OPTIONS, 481, 482, 483, 488). Peers are
// sipp, baresip and a raw UDP/TCP user agent (sigUA) for exact control.
//
// Ports come from the harness's allocators (instance(), mediaRange()).

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// sigPeerPort returns the first port of a fresh block of ten; a sipp on
// port p uses p+2 and p+3 for media.
func sigPeerPort() int { return 15000 + 10*instance() }

// sigStart starts Switchboard listening on UDP and TCP at 127.0.0.1:port
// (o.Listen, when set, must use port). With trunkPort > 0 it is
// trunkSetup's configuration (users 1000 and 1001, trunk "carrier" at
// 127.0.0.2:trunkPort, trusted from 127.0.0.2).
func sigStart(t *testing.T, port int, o SBOptions, trunkPort int) *SB {
	t.Helper()
	if len(o.Listen) == 0 {
		o.Listen = []string{fmt.Sprintf("udp://127.0.0.1:%d", port), fmt.Sprintf("tcp://127.0.0.1:%d", port)}
	}
	var sb *SB
	if trunkPort > 0 {
		sb = trunkSetup(t, trunkPort, o)
	} else {
		sb = startSB(t, o)
	}
	sb.SIPPort = port
	return sb
}

// sigUA is a raw SIP user agent over UDP or TCP: it sends hand-built
// requests, reads the responses of one transaction at a time, and answers
// requests Switchboard sends it.
type sigUA struct {
	t         testing.TB
	transport string // "UDP" or "TCP"
	udp       *net.UDPConn
	dst       *net.UDPAddr
	tcp       net.Conn
	rd        *bufio.Reader
	Local     string         // host:port of the socket
	requests  []*sip.Request // requests read while waiting for a response
}

// newSigUA binds laddr ("127.0.0.2:0", "127.0.0.1:15031") and talks UDP to dst.
func newSigUA(t testing.TB, laddr, dst string) *sigUA {
	t.Helper()
	la, err := net.ResolveUDPAddr("udp", laddr)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenUDP("udp", la)
	if err != nil {
		t.Fatalf("bind %s: %v", laddr, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	ra, err := net.ResolveUDPAddr("udp", dst)
	if err != nil {
		t.Fatal(err)
	}
	return &sigUA{t: t, transport: "UDP", udp: conn, dst: ra, Local: conn.LocalAddr().String()}
}

// newSigTCPUA connects from ip to dst over TCP. Nothing listens on its
// local port: Switchboard can reach it only over this connection.
func newSigTCPUA(t *testing.T, ip, dst string) *sigUA {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 3 * time.Second}
	conn, err := d.Dial("tcp", dst)
	if err != nil {
		t.Fatalf("connect %s: %v", dst, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return &sigUA{t: t, transport: "TCP", tcp: conn, rd: bufio.NewReader(conn), Local: conn.LocalAddr().String()}
}

// Close releases the socket (so a sipp can take over its port).
func (u *sigUA) Close() {
	if u.udp != nil {
		_ = u.udp.Close()
	}
	if u.tcp != nil {
		_ = u.tcp.Close()
	}
}

// read returns the next message received before deadline.
func (u *sigUA) read(deadline time.Time) (sip.Message, string, error) {
	var data []byte
	if u.udp != nil {
		buf := make([]byte, 65535)
		_ = u.udp.SetReadDeadline(deadline)
		n, _, err := u.udp.ReadFromUDP(buf)
		if err != nil {
			return nil, "", err
		}
		data = buf[:n]
	} else {
		// A stream: headers up to the empty line, then Content-Length bytes.
		_ = u.tcp.SetReadDeadline(deadline)
		length := 0
		for {
			line, err := u.rd.ReadString('\n')
			if err != nil {
				return nil, "", err
			}
			if len(data) == 0 && strings.TrimSpace(line) == "" {
				continue // keep-alive CRLF between messages
			}
			data = append(data, line...)
			if strings.TrimSpace(line) == "" {
				break
			}
			if name, v, ok := strings.Cut(line, ":"); ok && (strings.EqualFold(strings.TrimSpace(name), "Content-Length") || strings.TrimSpace(name) == "l") {
				length, _ = strconv.Atoi(strings.TrimSpace(v))
			}
		}
		body := make([]byte, length)
		if _, err := io.ReadFull(u.rd, body); err != nil {
			return nil, "", err
		}
		data = append(data, body...)
	}
	m, err := sip.ParseMessage(data)
	if err != nil {
		return nil, string(data), fmt.Errorf("unparsable message from Switchboard: %w", err)
	}
	return m, string(data), nil
}

// awaitRequest waits for a request of method from Switchboard.
func (u *sigUA) awaitRequest(method string, within time.Duration) (*sip.Request, string) {
	u.t.Helper()
	for i, r := range u.requests {
		if string(r.Method) == method {
			u.requests = append(u.requests[:i], u.requests[i+1:]...)
			return r, r.String()
		}
	}
	deadline := time.Now().Add(within)
	for {
		m, raw, err := u.read(deadline)
		if err != nil {
			u.t.Fatalf("no %s within %v: %v %s", method, within, err, raw)
		}
		if r, ok := m.(*sip.Request); ok && string(r.Method) == method {
			return r, raw
		}
	}
}

// respond answers a request from Switchboard.
func (u *sigUA) respond(req *sip.Request, code int, reason string) {
	u.t.Helper()
	u.send(sip.NewResponseFromRequest(req, code, reason, nil).String())
}

// sigReq is one request a sigUA sends.
type sigReq struct {
	Method, RURI   string
	From, To       string // user parts; hosts are 127.0.0.1
	FromTag, ToTag string
	CallID         string
	CSeq           int
	Branch         string   // generated when empty
	MaxForwards    string   // "70" when empty
	Vias           []string // extra Via values below the sender's own
	Headers        []string // extra header lines, e.g. "Expires: 0"
	Body           string   // SDP when set

	// refused is a final response to the first request that was no
	// challenge: start keeps it, final returns it.
	refused    *sip.Response
	refusedRaw string
}

func (r *sigReq) text(transport, local string) string {
	if r.Branch == "" {
		r.Branch = "z9hG4bK" + randToken()
	}
	mf := r.MaxForwards
	if mf == "" {
		mf = "70"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s SIP/2.0\r\nVia: SIP/2.0/%s %s;branch=%s;rport\r\n", r.Method, r.RURI, transport, local, r.Branch)
	for _, v := range r.Vias {
		fmt.Fprintf(&b, "Via: %s\r\n", v)
	}
	fmt.Fprintf(&b, "Max-Forwards: %s\r\nFrom: <sip:%s@127.0.0.1>;tag=%s\r\nTo: <sip:%s@127.0.0.1>", mf, r.From, r.FromTag, r.To)
	if r.ToTag != "" {
		b.WriteString(";tag=" + r.ToTag)
	}
	fmt.Fprintf(&b, "\r\nCall-ID: %s\r\nCSeq: %d %s\r\n", r.CallID, r.CSeq, r.Method)
	for _, h := range r.Headers {
		b.WriteString(h + "\r\n")
	}
	if r.Body != "" {
		b.WriteString("Content-Type: application/sdp\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(r.Body), r.Body)
	return b.String()
}

// newSigReq fills the per-transaction identifiers of a request.
func newSigReq(method, ruri, from, to string) *sigReq {
	return &sigReq{Method: method, RURI: ruri, From: from, To: to, FromTag: randToken(), CallID: "sig-" + randToken(), CSeq: 1}
}

func (u *sigUA) send(msg string) {
	u.t.Helper()
	var err error
	if u.udp != nil {
		_, err = u.udp.WriteToUDP([]byte(msg), u.dst)
	} else {
		_, err = u.tcp.Write([]byte(msg))
	}
	if err != nil {
		u.t.Fatalf("send: %v", err)
	}
}

// next returns the next response of r's transaction, provisional or
// final, and its raw text; nil when none comes within. Requests read
// meanwhile are kept for awaitRequest; responses of other transactions
// (retransmissions) are skipped.
func (u *sigUA) next(r *sigReq, within time.Duration) (*sip.Response, string) {
	u.t.Helper()
	deadline := time.Now().Add(within)
	for {
		m, raw, err := u.read(deadline)
		if m == nil && raw != "" {
			u.t.Errorf("%v\n%s", err, raw)
			continue
		}
		if err != nil {
			return nil, ""
		}
		if req, ok := m.(*sip.Request); ok {
			u.requests = append(u.requests, req)
			continue
		}
		res, ok := m.(*sip.Response)
		if !ok || res.CallID() == nil || res.CallID().Value() != r.CallID || res.CSeq() == nil ||
			int(res.CSeq().SeqNo) != r.CSeq || string(res.CSeq().MethodName) != r.Method {
			continue
		}
		return res, raw
	}
}

// final waits for the final response of r's transaction (or returns the
// one start kept). A non-2xx final response to an INVITE is ACKed with the
// INVITE's branch (RFC 3261 §17.1.1.3).
func (u *sigUA) final(r *sigReq, within time.Duration) (*sip.Response, string) {
	u.t.Helper()
	if r.refused != nil {
		return r.refused, r.refusedRaw
	}
	deadline := time.Now().Add(within)
	for {
		res, raw := u.next(r, time.Until(deadline))
		if res == nil {
			u.t.Fatalf("%s %s (Call-ID %s): no final response within %v", r.Method, r.RURI, r.CallID, within)
		}
		if res.StatusCode < 200 {
			continue
		}
		if r.Method == "INVITE" && res.StatusCode >= 300 {
			ack := *r
			ack.Method, ack.Body, ack.Headers, ack.Vias = "ACK", "", nil, nil
			ack.ToTag, _ = res.To().Params.Get("tag")
			u.send(ack.text(u.transport, u.Local))
		}
		return res, raw
	}
}

// do sends r and returns its final response and raw text.
func (u *sigUA) do(r *sigReq) (*sip.Response, string) {
	u.t.Helper()
	u.send(r.text(u.transport, u.Local))
	return u.final(r, 5*time.Second)
}

// start sends r and, when pass is set and Switchboard challenges it,
// answers one MD5 digest challenge (401 or 407) with a second request
// (next CSeq, new branch) as user, leaving its responses to next and
// final. A final response to the first request that is no challenge is
// kept in r for final.
func (u *sigUA) start(r *sigReq, user, pass string) {
	u.t.Helper()
	u.send(r.text(u.transport, u.Local))
	if pass == "" {
		return
	}
	res, raw := u.final(r, 5*time.Second)
	hdr, authHdr := "WWW-Authenticate", "Authorization"
	switch res.StatusCode {
	case 407:
		hdr, authHdr = "Proxy-Authenticate", "Proxy-Authorization"
	case 401:
	default:
		r.refused, r.refusedRaw = res, raw
		return
	}
	realm, nonce, opaque := challengeParams(raw, hdr)
	if nonce == "" {
		u.t.Fatalf("no MD5 challenge in\n%s", raw)
	}
	r.CSeq++
	r.Branch = ""
	r.Headers = append(append([]string(nil), r.Headers...),
		strings.TrimSuffix(digestHeader(authHdr, user, pass, realm, nonce, opaque, r.Method, r.RURI), "\r\n"))
	u.send(r.text(u.transport, u.Local))
}

// doAuth is do, answering one digest challenge as user (start).
func (u *sigUA) doAuth(r *sigReq, user, pass string) (*sip.Response, string) {
	u.t.Helper()
	u.start(r, user, pass)
	return u.final(r, 5*time.Second)
}

// ack confirms the dialog a 2xx to invite created (ACK to the remote
// target, RFC 3261 §13.2.2.4) and returns the dialog's next request
// template.
func (u *sigUA) ack(invite *sigReq, ok *sip.Response) *sigReq {
	u.t.Helper()
	d := *invite
	d.ToTag, _ = ok.To().Params.Get("tag")
	if c := ok.Contact(); c != nil {
		d.RURI = c.Address.String()
	}
	d.Body, d.Headers, d.Vias, d.Branch = "", nil, nil, ""
	d.Method = "ACK"
	u.send(d.text(u.transport, u.Local))
	d.Branch = ""
	d.CSeq++
	return &d
}

// ackAndBye confirms the dialog and ends it with BYE, returning the BYE's
// final response.
func (u *sigUA) ackAndBye(invite *sigReq, ok *sip.Response) (*sip.Response, string) {
	u.t.Helper()
	d := u.ack(invite, ok)
	d.Method = "BYE"
	return u.do(d)
}

// sigSDP is an offer from the raw UA: audio on port 4000 with the given
// m-line formats and attribute lines.
func sigSDP(fmts string, attrs ...string) string {
	s := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP " + fmts + "\r\n"
	for _, a := range attrs {
		s += a + "\r\n"
	}
	return s
}

// sigSDPPCMA is a sipp offer/answer of PCMA only (what g711a.pcap carries).
const sigSDPPCMA = `v=0
o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 8 101
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=sendrecv
`

// sigTrustedInvite is a caller INVITE without credentials (the caller is a
// trunk, trusted by address), CSeq 1.
func sigTrustedInvite(body string) string { return sigTrustedInviteHeaders("", body) }

// sigTrustedInviteHeaders is sigTrustedInvite with extra header lines
// (each ending in a newline).
func sigTrustedInviteHeaders(extra, body string) string {
	return `<send retrans="500">` + cdata(`INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
`+uacHdrs+`
To: <sip:[service]@[remote_ip]:[remote_port]>
CSeq: 1 INVITE
`+extra+`Content-Type: application/sdp
Content-Length: [len]

`+body) + "</send>\n" + `<recv response="100" optional="true"/>
`
}

// sigAnswerAfter is a callee that rings, answers after ms milliseconds and
// waits for the ACK and the BYE.
func sigAnswerAfter(ms int) []string {
	return []string{`<recv request="INVITE"/>`, reply("180", "Ringing", false, ""),
		fmt.Sprintf(`<pause milliseconds="%d"/>`, ms),
		`<send retrans="500">` + strings.TrimPrefix(reply("200", "OK", true, "sendrecv"), "<send>"),
		`<recv request="ACK"/>`, `<recv request="BYE"/>`, replyNoTag("200", "OK", false, "")}
}

// sigTrustedCaller is a caller on 127.0.0.2 (the trusted trunk address)
// that dials service, talks for ms milliseconds and hangs up.
func sigTrustedCaller(t *testing.T, ms int) string {
	return writeScenario(t, "uac-sig-trusted", sigTrustedInvite(sdp("sendrecv")),
		`<recv response="180" optional="true"/>`, `<recv response="183" optional="true"/>`, `<recv response="200"/>`,
		uacAck("1"), fmt.Sprintf(`<pause milliseconds="%d"/>`, ms), uacInDialog("BYE", "2", "", ""), `<recv response="200"/>`)
}

// sigSippUAS runs a one-call sipp callee in the background on ip:port.
func sigSippUAS(t *testing.T, dir, scen, ip string, port, mport int, extra ...string) chan Sipp {
	t.Helper()
	done := make(chan Sipp, 1)
	args := append([]string{"-sf", scen, "-i", ip, "-p", strconv.Itoa(port), "-mi", ip, "-mp", strconv.Itoa(mport),
		"-m", "1", "-timeout", "30s", "-timeout_error"}, extra...)
	go func() { done <- runSipp(t, dir, 40*time.Second, args...) }()
	waitPort(t, "udp", net.JoinHostPort(ip, strconv.Itoa(port)))
	return done
}

// sigCall runs a one-call sipp caller from ip:port to sb: user dials service.
func sigCall(t *testing.T, dir, scen string, sb *SB, ip string, port int, user, service string, extra ...string) Sipp {
	t.Helper()
	args := append([]string{"-sf", scen, sb.Addr(), "-i", ip, "-p", strconv.Itoa(port), "-mi", ip, "-mp", strconv.Itoa(port + 2),
		"-s", service, "-key", "user", user, "-m", "1", "-timeout", "30s", "-timeout_error"}, extra...)
	return runSipp(t, dir, 40*time.Second, args...)
}

// sippOK fails the test unless a one-call sipp run succeeded.
func sippOK(t *testing.T, who string, r Sipp) {
	t.Helper()
	if r.Err != nil || r.Stats.Successful != 1 {
		t.Errorf("%s sipp failed: %v\n%s", who, r.Err, tail(r.Out, 3000))
	}
}

// oneCDR waits for exactly one record and returns it.
func oneCDR(t *testing.T, sb *SB) CDR {
	t.Helper()
	recs := sb.WaitCDRs(1, 10*time.Second)
	time.Sleep(300 * time.Millisecond) // a second record would be a bug: give it a moment
	if recs = sb.CDRs(); len(recs) != 1 {
		t.Fatalf("%d CDRs, want exactly 1: %+v", len(recs), recs)
	}
	return recs[0]
}

// TestTrunkCallToRegisteredUser: a call from the trunk's trusted address
// (no digest) to a registered baresip user rings, is answered, and the
// phone hears the caller's audio (g711a.pcap, PCMA 30 ms, relayed); the
// CDR records a trunk-originated, answered call. The same INVITE from an
// untrusted address is challenged (407), and the trunk may not dial a trunk
// number through Switchboard (403).
func TestTrunkCallToRegisteredUser(t *testing.T) {
	requireTool(t, "sipp")
	dir := t.TempDir()
	sb := sigStart(t, sigPeerPort(), SBOptions{}, sigPeerPort())

	// Negative cases first: raw INVITEs, no call may result.
	for _, tc := range []struct {
		name, ip, dialled string
		want              int
	}{
		{"untrusted without credentials", "127.0.0.3", "1001", 407},
		{"trunk to trunk", "127.0.0.2", "95551234", 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ua := newSigUA(t, tc.ip+":0", sb.Addr())
			r := newSigReq("INVITE", "sip:"+tc.dialled+"@127.0.0.1", "5551234", tc.dialled)
			r.Headers = []string{"Contact: <sip:5551234@" + ua.Local + ">"}
			r.Body = sigSDP("8", "a=rtpmap:8 PCMA/8000")
			if res, raw := ua.do(r); res.StatusCode != tc.want {
				t.Errorf("got %d, want %d\n%s", res.StatusCode, tc.want, raw)
			}
		})
	}

	bob := startBaresip(t, BaresipOptions{User: "1001", Password: sb.Users["1001"], SB: sb, ToneHz: 1000, Register: true, Codecs: "PCMA"})
	port := sigPeerPort()
	uac := writeScenario(t, "uac-sig-trunk-pcap", sigTrustedInvite(sigSDPPCMA),
		`<recv response="180"/>`, `<recv response="183" optional="true"/>`, `<recv response="200"/>`, uacAck("1"),
		`<nop><action><exec play_pcap_audio="/usr/share/sip-tester/g711a.pcap"/></action></nop>`,
		`<pause milliseconds="4000"/>`, uacInDialog("BYE", "2", "", ""), `<recv response="200"/>`)
	r := sigCall(t, dir, uac, sb, "127.0.0.2", port, "5551234", "1001")
	sippOK(t, "trunk caller", r)
	if !bob.WaitEvent("CALL_CLOSED", 5*time.Second) || !bob.HasEvent("CALL_ESTABLISHED") {
		t.Errorf("baresip: established %v, closed %v", bob.HasEvent("CALL_ESTABLISHED"), bob.HasEvent("CALL_CLOSED"))
	}
	// g711a.pcap is speech, not a tone: check that sound of real level
	// arrived for most of the 4 s the caller played.
	x, rate := bob.Heard()
	active := activePart(x, 500)
	if len(active) < 2*rate || rms(active) < 300 {
		t.Errorf("baresip heard %.1f s of sound at rms %.0f (of %.1f s): the caller's audio did not arrive",
			float64(len(active))/float64(rate), rms(active), float64(len(x))/float64(rate))
	}
	// A pure tone puts half its mean square in its Goertzel bin; speech
	// puts almost nothing in one. The phone's own 1000 Hz coming back
	// would be a reflection, not the caller.
	if ms := rms(active) * rms(active); ms > 0 && goertzelPower(active, rate, 1000)/ms > 0.1 {
		t.Errorf("baresip heard its own 1000 Hz tone (%.2f of the power)", goertzelPower(active, rate, 1000)/ms)
	}

	recs := sb.WaitCDRs(2, 10*time.Second)
	if len(recs) != 2 {
		t.Fatalf("%d CDRs, want 2 (the 403 and the call; a 407 challenge is no call): %+v", len(recs), recs)
	}
	for _, c := range recs {
		switch c.Dialled {
		case "95551234":
			expectCDR(t, c, 403, "failed", "switchboard")
		case "1001":
			expectCDR(t, c, 200, "answered", "caller")
			if !strings.HasPrefix(c.From, "5551234@") || c.Route != `^1\d{3}$` || c.Trunk != "" || c.SourceTrunk != "carrier" || c.Caller != "trunk:carrier" {
				t.Errorf("CDR from %q caller %q source_trunk %q route %q trunk %q: want the trunk caller 5551234 from carrier routed to a user", c.From, c.Caller, c.SourceTrunk, c.Route, c.Trunk)
			}
			if c.CodecA != "PCMA" || c.CodecB != "PCMA" || c.AToBPackets < 100 {
				t.Errorf("CDR codecs %s/%s, %d packets caller→callee", c.CodecA, c.CodecB, c.AToBPackets)
			}
		default:
			t.Errorf("unexpected CDR %+v", c)
		}
	}
}

// TestForkLate2xxIsAckedAndByed: user 1001 has two contacts (two sipp
// callees). One answers after 0.5 s; the other ignores the CANCEL it gets
// and answers after 1.5 s anyway. Switchboard must ACK that late 2xx and
// end it with BYE (RFC 3261 §13.2.2.4); the caller's call is unaffected.
func TestForkLate2xxIsAckedAndByed(t *testing.T) {
	requireTool(t, "sipp")
	dir := t.TempDir()
	sb := sigStart(t, sigPeerPort(), SBOptions{}, sigPeerPort())
	p1, p2 := sigPeerPort(), sigPeerPort()
	for _, p := range []int{p1, p2} {
		sigRegisterFrom(t, sb, "1001", p, 300)
	}
	late := writeScenario(t, "uas-sig-late2xx", `<recv request="INVITE"/>`, reply("180", "Ringing", false, ""),
		`<recv request="CANCEL"/>`, reply("200", "OK", false, ""), `<pause milliseconds="1000"/>`,
		`<send retrans="500">`+cdata(`SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
CSeq: 1 INVITE
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
Content-Type: application/sdp
Content-Length: [len]

`+sdp("sendrecv"))+`</send>`,
		`<recv request="ACK"/>`, `<recv request="BYE"/>`, replyNoTag("200", "OK", false, ""))
	winner := writeScenario(t, "uas-sig-winner", sigAnswerAfter(500)...)
	wDone := sigSippUAS(t, dir, winner, "127.0.0.1", p1, p1+2)
	lDone := sigSippUAS(t, dir, late, "127.0.0.1", p2, p2+2)
	r := sigCall(t, dir, sigTrustedCaller(t, 2500), sb, "127.0.0.2", sigPeerPort(), "5551234", "1001")
	sippOK(t, "caller", r)
	sippOK(t, "callee answering at 0.5 s", <-wDone)
	sippOK(t, "callee answering at 1.5 s despite CANCEL (must get ACK and BYE)", <-lDone)
	c := oneCDR(t, sb)
	expectCDR(t, c, 200, "answered", "caller")
}

// TestRTPInactivityEndsCall: an answered call that carries no RTP at all
// ends after media.inactivity_timeout with BYE to both sides and a CDR
// saying Switchboard hung up for an RTP timeout.
func TestRTPInactivityEndsCall(t *testing.T) {
	requireTool(t, "sipp")
	dir := t.TempDir()
	uas := writeScenario(t, "uas-sig-silent", `<recv request="INVITE"/>`, reply("180", "Ringing", false, ""),
		reply("200", "OK", true, "sendrecv"), `<recv request="ACK"/>`,
		`<recv request="BYE" timeout="15000"/>`, replyNoTag("200", "OK", false, ""))
	uac := writeScenario(t, "uac-sig-silent", uacInvite(), `<recv response="180" optional="true"/>`, `<recv response="200"/>`,
		uacAck("2"), `<recv request="BYE" timeout="15000"/>`, replyNoTag("200", "OK", false, ""))
	uasPort := sigPeerPort()
	sb := sigStart(t, sigPeerPort(), SBOptions{Inactivity: "3s"}, uasPort)
	uDone := sigSippUAS(t, dir, uas, "127.0.0.2", uasPort, uasPort+2)
	r := sigCall(t, dir, uac, sb, "127.0.0.3", sigPeerPort(), "1000", "95551234", "-au", "1000", "-ap", sb.Users["1000"])
	sippOK(t, "caller (must get BYE)", r)
	sippOK(t, "callee (must get BYE)", <-uDone)
	c := oneCDR(t, sb)
	expectCDR(t, c, 200, "answered", "switchboard")
	reason := strings.ToLower(c.HangupReason)
	if !strings.Contains(reason, "rtp") || !strings.Contains(reason, "timeout") {
		t.Errorf("hangup reason %q, want an RTP timeout", c.HangupReason)
	}
	if c.Billable < 2.5 || c.Billable > 8 {
		t.Errorf("billable %.1fs for a 3 s inactivity timeout", c.Billable)
	}
	if c.AToBPackets != 0 || c.BToAPackets != 0 {
		t.Errorf("%d/%d packets counted on a call without media", c.AToBPackets, c.BToAPackets)
	}
}

// TestProtocolChecks: out-of-dialog and malformed-intent requests get the
// status RFC 3261 asks for. Each is checked against a near miss that must
// not get it, so the test can tell.
func TestProtocolChecks(t *testing.T) {
	sb := sigStart(t, sigPeerPort(), SBOptions{Users: []string{"1000", "1001"}}, 0)
	ua := newSigUA(t, "127.0.0.1:0", sb.Addr())
	contact := "Contact: <sip:1000@" + ua.Local + ">"
	pcmu := sigSDP("0", "a=rtpmap:0 PCMU/8000")
	own := fmt.Sprintf("SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-sb0123456789abcdef", sb.SIPPort)
	for _, tc := range []struct {
		name string
		req  func() *sigReq
		auth bool
		want int
		cdr  bool // the request reaches call setup and leaves a record
	}{
		{"OPTIONS out of dialog", func() *sigReq { return newSigReq("OPTIONS", "sip:127.0.0.1", "1000", "1001") }, false, 200, false},
		{"BYE for an unknown dialog", func() *sigReq {
			r := newSigReq("BYE", "sip:1001@127.0.0.1", "1000", "1001")
			r.ToTag = randToken()
			return r
		}, false, 481, false},
		{"INVITE with Max-Forwards 0", func() *sigReq {
			r := newSigReq("INVITE", "sip:1001@127.0.0.1", "1000", "1001")
			r.MaxForwards, r.Headers, r.Body = "0", []string{contact}, pcmu
			return r
		}, false, 483, false},
		{"INVITE with Max-Forwards 1 (near miss: challenged)", func() *sigReq {
			r := newSigReq("INVITE", "sip:1001@127.0.0.1", "1000", "1001")
			r.MaxForwards, r.Headers, r.Body = "1", []string{contact}, pcmu
			return r
		}, false, 407, false},
		{"INVITE that went through Switchboard already", func() *sigReq {
			r := newSigReq("INVITE", "sip:1001@127.0.0.1", "1000", "1001")
			r.Vias, r.Headers, r.Body = []string{own}, []string{contact}, pcmu
			return r
		}, false, 482, false},
		{"INVITE with Switchboard's branch from another host (near miss)", func() *sigReq {
			r := newSigReq("INVITE", "sip:1001@127.0.0.1", "1000", "1001")
			r.Vias = []string{fmt.Sprintf("SIP/2.0/UDP 127.0.0.9:%d;branch=z9hG4bK-sb0123456789abcdef", sb.SIPPort)}
			r.Headers, r.Body = []string{contact}, pcmu
			return r
		}, false, 407, false},
		{"authenticated INVITE with bad SDP", func() *sigReq {
			r := newSigReq("INVITE", "sip:1001@127.0.0.1", "1000", "1001")
			r.Headers, r.Body = []string{contact}, "v=0\r\nthis is no session description\r\n"
			return r
		}, true, 488, true},
		{"authenticated INVITE offering only G729", func() *sigReq {
			r := newSigReq("INVITE", "sip:1001@127.0.0.1", "1000", "1001")
			r.Headers, r.Body = []string{contact}, sigSDP("18", "a=rtpmap:18 G729/8000")
			return r
		}, true, 488, true},
		{"authenticated INVITE offering PCMU (near miss: user not registered)", func() *sigReq {
			r := newSigReq("INVITE", "sip:1001@127.0.0.1", "1000", "1001")
			r.Headers, r.Body = []string{contact}, pcmu
			return r
		}, true, 480, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(sb.CDRs())
			r := tc.req()
			var res *sip.Response
			var raw string
			if tc.auth {
				res, raw = ua.doAuth(r, "1000", sb.Users["1000"])
			} else {
				res, raw = ua.do(r)
			}
			if res.StatusCode != tc.want {
				t.Fatalf("got %d, want %d\n%s", res.StatusCode, tc.want, raw)
			}
			if r.Method == "OPTIONS" {
				allow := res.GetHeader("Allow")
				if allow == nil || !strings.Contains(allow.Value(), "INVITE") || !strings.Contains(allow.Value(), "BYE") {
					t.Errorf("OPTIONS 200 without a useful Allow:\n%s", raw)
				}
			}
			want := before
			if tc.cdr {
				want++
			}
			recs := sb.WaitCDRs(want, 3*time.Second)
			if len(recs) != want {
				t.Fatalf("%d CDRs after the request, want %d: %+v", len(recs), want, recs)
			}
			if tc.cdr {
				c := recs[len(recs)-1]
				if c.Status != tc.want || c.Disposition != "failed" || c.ACallID != r.CallID {
					t.Errorf("CDR %+v, want status %d failed for Call-ID %s", c, tc.want, r.CallID)
				}
			}
		})
	}
}

// TestIPv6Call: Switchboard listens on [::1] as well; a caller over IPv6
// (digest as 1000) reaches a trunk on [::1] (a sipp callee) a few times.
// Media stays IPv4 (media.address is 127.0.0.1); only signaling is checked.
// The caller is the raw user agent: sipp 3.6 writes an IPv6 digest-uri
// without brackets or user ("sip:::1:5060"), which Switchboard refuses.
func TestIPv6Call(t *testing.T) {
	requireTool(t, "sipp")
	dir := t.TempDir()
	base, uasPort := sigPeerPort(), sigPeerPort()
	sb := sigStart(t, base, SBOptions{
		Users: []string{"1000"},
		// Quoted: a bare [::1] would end the YAML flow sequence.
		Listen: []string{fmt.Sprintf("\"udp://127.0.0.1:%d\"", base), fmt.Sprintf("\"udp://[::1]:%d\"", base)},
		Trunks: fmt.Sprintf(`  - {name: v6carrier, uri: "sip:[::1]:%d"}`, uasPort),
		Routes: `  - {match: '^9(\d+)$', to: trunk:v6carrier, rewrite: '$1'}`,
	}, 0)
	const calls = 3
	uas := writeScenario(t, "uas-sig-v6", sigAnswerAfter(100)...)
	uasDone := make(chan Sipp, 1)
	go func() {
		uasDone <- runSipp(t, dir, 40*time.Second, "-sf", uas, "-i", "::1", "-p", strconv.Itoa(uasPort),
			"-mi", "::1", "-mp", strconv.Itoa(uasPort+2), "-m", strconv.Itoa(calls), "-timeout", "30s", "-timeout_error")
	}()
	waitPort(t, "udp", fmt.Sprintf("[::1]:%d", uasPort))

	ua := newSigUA(t, "[::1]:0", fmt.Sprintf("[::1]:%d", base))
	for i := range calls {
		r := newSigReq("INVITE", fmt.Sprintf("sip:95551234@[::1]:%d", base), "1000", "95551234")
		r.Headers = []string{"Contact: <sip:1000@" + ua.Local + ">"}
		r.Body = sigSDP("0", "a=rtpmap:0 PCMU/8000")
		res, raw := ua.doAuth(r, "1000", sb.Users["1000"])
		if res.StatusCode != 200 {
			t.Fatalf("call %d over IPv6: got %d\n%s", i, res.StatusCode, raw)
		}
		if via := res.Via(); via == nil || !strings.Contains(via.Host, ":") {
			t.Errorf("response Via %v is not the caller's IPv6 Via", via)
		}
		if res, raw := ua.ackAndBye(r, res); res.StatusCode != 200 {
			t.Errorf("BYE over IPv6: got %d\n%s", res.StatusCode, raw)
		}
	}
	if ur := <-uasDone; ur.Err != nil || ur.Stats.Successful != calls {
		t.Errorf("IPv6 trunk: %d/%d successful, err %v\n%s", ur.Stats.Successful, calls, ur.Err, tail(ur.Out, 3000))
	}
	recs := sb.WaitCDRs(calls, 10*time.Second)
	if len(recs) != calls {
		t.Fatalf("%d CDRs, want %d", len(recs), calls)
	}
	for _, c := range recs {
		expectCDR(t, c, 200, "answered", "caller")
		if c.Trunk != "v6carrier" || c.Dialled != "95551234" {
			t.Errorf("CDR trunk %q dialled %q", c.Trunk, c.Dialled)
		}
	}
}

// TestTCPCallerGetsByeOnItsConnection: a caller on TCP whose Contact
// nobody listens on (as behind NAT) is answered, and when
// the callee hangs up, Switchboard's BYE reaches it over the connection it
// opened (RFC 3261 §18.2.2 and the dialog's remote target; sipgo issue:
// in-dialog requests over the accepted connection).
func TestTCPCallerGetsByeOnItsConnection(t *testing.T) {
	requireTool(t, "sipp")
	dir := t.TempDir()
	uasPort := sigPeerPort()
	sb := sigStart(t, sigPeerPort(), SBOptions{}, uasPort)
	uas := writeScenario(t, "uas-sig-tcp-bye", `<recv request="INVITE">`+captureFrom+`</recv>`,
		reply("180", "Ringing", false, ""), reply("200", "OK", true, "sendrecv"), `<recv request="ACK"/>`,
		`<pause milliseconds="500"/>`, uasInDialog("BYE", "1", ""), `<recv response="200"/>`)
	uDone := sigSippUAS(t, dir, uas, "127.0.0.2", uasPort, uasPort+2)

	ua := newSigTCPUA(t, "127.0.0.3", sb.Addr())
	r := newSigReq("INVITE", fmt.Sprintf("sip:95551234@%s;transport=tcp", sb.Addr()), "1000", "95551234")
	// The Contact names a port nobody listens on (a phone behind NAT):
	// only the connection reaches the caller.
	r.Headers = []string{fmt.Sprintf("Contact: <sip:1000@127.0.0.3:%d;transport=tcp>", sigPeerPort()+9)}
	r.Body = sigSDP("0", "a=rtpmap:0 PCMU/8000")
	res, raw := ua.doAuth(r, "1000", sb.Users["1000"])
	if res.StatusCode != 200 {
		t.Fatalf("INVITE over TCP: got %d\n%s", res.StatusCode, raw)
	}
	ua.ack(r, res)
	bye, _ := ua.awaitRequest("BYE", 10*time.Second)
	if bye.CallID() == nil || bye.CallID().Value() != r.CallID {
		t.Errorf("BYE for Call-ID %v, want %s", bye.CallID(), r.CallID)
	}
	ua.respond(bye, 200, "OK")
	sippOK(t, "callee hanging up", <-uDone)
	c := oneCDR(t, sb)
	expectCDR(t, c, 200, "answered", "callee")
}

// TestRetransmissionsAroundTransactionLinger: with sip.transaction_linger
// at 1 s, what the RFCs' longer timers would have absorbed is still
// handled right once the transactions are gone:
//   - the callee's 2xx, repeated after its INVITE transaction was released,
//     is ACKed again;
//   - the caller's INVITE, repeated after its transaction ended, does not
//     start a second call;
//   - the caller's BYE, repeated within the linger, gets its 200 again from
//     the transaction; repeated after the call is gone, it gets 481.
//
// Exactly one CDR comes out of it.
func TestRetransmissionsAroundTransactionLinger(t *testing.T) {
	// The caller is the trusted trunk: no digest, whose nonce count would
	// reject a repeated INVITE on its own. The callee is user 1001.
	sb := sigStart(t, sigPeerPort(), SBOptions{Linger: "1s"}, sigPeerPort())
	calleePort := sigPeerPort()
	sigRegisterFrom(t, sb, "1001", calleePort, 300)
	callee := newSigUA(t, fmt.Sprintf("127.0.0.1:%d", calleePort), sb.Addr())
	caller := newSigUA(t, "127.0.0.2:0", sb.Addr())

	inv := newSigReq("INVITE", "sip:1001@"+sb.Addr(), "carrier", "1001")
	inv.Body = sigSDP("0 8")
	type final struct {
		res *sip.Response
		raw string
	}
	answered := make(chan final, 1)
	go func() {
		res, raw := caller.do(inv)
		answered <- final{res, raw}
	}()

	// The callee answers; the 2xx goes out again after the ACK, as if the
	// ACK had been lost.
	req, _ := callee.awaitRequest("INVITE", 5*time.Second)
	ok := sip.NewResponseFromRequest(req, 200, "OK", []byte(sigSDP("0")))
	ok.To().Params.Add("tag", "callee"+randToken())
	ok.AppendHeader(sip.NewHeader("Contact", "<sip:"+callee.Local+">"))
	ok.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	callee.send(ok.String())
	a := <-answered
	if a.res.StatusCode != 200 {
		t.Fatalf("caller got %d, want 200:\n%s", a.res.StatusCode, a.raw)
	}
	callee.awaitRequest("ACK", 3*time.Second)
	time.Sleep(1500 * time.Millisecond) // the callee's INVITE transaction is long gone
	callee.send(ok.String())
	callee.awaitRequest("ACK", 3*time.Second)

	// The caller's INVITE again, byte for byte, after its transaction ended.
	dialog := caller.ack(inv, a.res)
	time.Sleep(1500 * time.Millisecond)
	caller.send(inv.text(caller.transport, caller.Local))
	if m, raw, err := callee.read(time.Now().Add(1500 * time.Millisecond)); err == nil {
		t.Fatalf("the repeated INVITE reached the callee side: %T\n%s", m, raw)
	}

	// BYE, its repetition within the linger, and one after.
	dialog.Method = "BYE"
	byeDone := make(chan *sip.Response, 1)
	go func() { res, _ := caller.do(dialog); byeDone <- res }()
	bye, _ := callee.awaitRequest("BYE", 5*time.Second)
	callee.respond(bye, 200, "OK")
	if res := <-byeDone; res.StatusCode != 200 {
		t.Fatalf("BYE got %d, want 200", res.StatusCode)
	}
	if res, _ := caller.do(dialog); res.StatusCode != 200 {
		t.Errorf("BYE repeated within the linger got %d, want the transaction's 200", res.StatusCode)
	}
	time.Sleep(1500 * time.Millisecond)
	if res, _ := caller.do(dialog); res.StatusCode != 481 {
		t.Errorf("BYE repeated after the call got %d, want 481", res.StatusCode)
	}

	expectCDR(t, oneCDR(t, sb), 200, "answered", "caller")
}

// TestSilentCalleeTimesOut: a callee whose contact never answers at all
// (not even 100 Trying) ends the call when the B-leg INVITE transaction
// times out (Timer B, 64×T1 = 32 s): the caller gets 408 and the call one
// CDR (no-answer). This is the one way a client transaction ends without a final
// response reaching the call, so it proves that end is still reported.
func TestSilentCalleeTimesOut(t *testing.T) {
	sb := sigStart(t, sigPeerPort(), SBOptions{RingTimeout: "60s"}, sigPeerPort())
	calleePort := sigPeerPort()
	sigRegisterFrom(t, sb, "1001", calleePort, 300)
	silent := newSigUA(t, fmt.Sprintf("127.0.0.1:%d", calleePort), sb.Addr()) // bound, never answers
	caller := newSigUA(t, "127.0.0.2:0", sb.Addr())                           // the trusted trunk

	inv := newSigReq("INVITE", "sip:1001@"+sb.Addr(), "carrier", "1001")
	inv.Body = sigSDP("0 8")
	caller.send(inv.text(caller.transport, caller.Local))
	res, raw := caller.final(inv, 45*time.Second)
	if res.StatusCode != 408 {
		t.Fatalf("caller got %d, want 408:\n%s", res.StatusCode, raw)
	}
	if _, raw := silent.awaitRequest("INVITE", time.Second); !strings.Contains(raw, "INVITE sip:") {
		t.Errorf("the callee never saw the INVITE:\n%s", raw)
	}
	c := oneCDR(t, sb)
	if c.Status != 408 || c.Disposition != "no-answer" {
		t.Errorf("CDR status=%d disposition=%s, want 408/no-answer", c.Status, c.Disposition)
	}
}
