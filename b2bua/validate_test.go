package b2bua

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/config"
)

func parseReq(t *testing.T, msg string) *sip.Request {
	t.Helper()
	m, err := sip.ParseMessage([]byte(msg))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, msg)
	}
	return m.(*sip.Request)
}

func TestValidate(t *testing.T) {
	req := func(method string, extra ...string) string {
		lines := []string{
			method + " sip:1001@example.com SIP/2.0",
			"Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1",
			"From: <sip:1000@example.com>;tag=1",
			"To: <sip:1001@example.com>",
			"Call-ID: c1",
			"CSeq: 1 " + method,
			"Max-Forwards: 70",
		}
		return sipMsg(append(lines, extra...)...)
	}
	sdp := "v=0\r\n"
	withBody := func(method, ctype, body string, extra ...string) string {
		h := append([]string{"Content-Type: " + ctype, fmt.Sprintf("Content-Length: %d", len(body))}, extra...)
		return req(method, h...) + body
	}
	tests := []struct {
		name   string
		msg    string
		code   int    // 0: passes
		header string // "Name: value" the response must carry
	}{
		{"plain options", req("OPTIONS"), 0, ""},
		{"invite with sdp", withBody("INVITE", "application/sdp", sdp), 0, ""},
		{"sdp with params", withBody("INVITE", "Application/SDP; charset=utf-8", sdp), 0, ""},
		{"version", strings.Replace(req("OPTIONS"), "SIP/2.0\r\n", "SIP/2.1\r\n", 1), 505, ""},
		{"unknown method", strings.Replace(req("FOO"), "CSeq: 1 FOO", "CSeq: 1 INVITE", 1), 501, "Allow: " + allowMethods},
		{"missing call-id", strings.Replace(req("OPTIONS"), "Call-ID: c1\r\n", "", 1), 400, ""},
		{"missing from", strings.Replace(req("OPTIONS"), "From: <sip:1000@example.com>;tag=1\r\n", "", 1), 400, ""},
		{"two to", req("OPTIONS", "To: <sip:x@example.com>"), 400, ""},
		{"two max-forwards", req("OPTIONS", "Max-Forwards: 5"), 400, ""},
		{"two contacts in invite", req("INVITE", "Contact: <sip:a@b>, <sip:c@d>"), 400, ""},
		{"two contacts in register ok", req("REGISTER", "Contact: <sip:a@b>, <sip:c@d>"), 0, ""},
		{"cseq mismatch", strings.Replace(req("OPTIONS"), "CSeq: 1 OPTIONS", "CSeq: 1 INVITE", 1), 400, ""},
		{"tel r-uri", strings.Replace(req("OPTIONS"), "sip:1001@example.com SIP", "tel:+15551001 SIP", 1), 416, ""},
		{"register to non-sip aor", strings.Replace(req("REGISTER"), "To: <sip:1001@example.com>", "To: <mailto:a@example.com>", 1), 400, ""},
		{"require unknown", req("OPTIONS", "Require: foo, bar", "Require: baz"), 420, "Unsupported: foo, bar, baz"},
		{"proxy-require ignored", req("OPTIONS", "Proxy-Require: foo"), 0, ""},
		{"require ignored in cancel", req("CANCEL", "Require: foo"), 0, ""},
		{"unknown content type", withBody("INVITE", "application/unknown", "x"), 415, "Accept: application/sdp"},
		{"multipart not unpacked", withBody("INVITE", "multipart/mixed;boundary=x", "x"), 415, ""},
		{"encoding gzip", withBody("INVITE", "application/sdp", sdp, "Content-Encoding: gzip"), 415, "Accept-Encoding: identity"},
		{"encoding compact identity", withBody("INVITE", "application/sdp", sdp, "e: identity"), 0, ""},
		{"body without type", req("INVITE", "Content-Length: 5") + "v=0\r\n", 400, ""},
		{"message body not checked", withBody("MESSAGE", "text/plain", "hi"), 0, ""},
		{"accept without sdp", req("INVITE", "Accept: text/plain"), 406, ""},
		{"accept with sdp", req("INVITE", "Accept: text/plain, application/sdp"), 0, ""},
		{"accept wildcard", req("INVITE", "Accept: application/*"), 0, ""},
		{"accept sdp q=0", req("INVITE", "Accept: application/sdp;q=0"), 406, ""},
		{"accept empty tolerated", req("INVITE", "Accept:"), 0, ""},
		{"accept ignored for options", req("OPTIONS", "Accept: text/plain"), 0, ""},
	}
	s := testServer()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := s.validate(parseReq(t, tc.msg))
			switch {
			case tc.code == 0 && res != nil:
				t.Fatalf("rejected with %d %s", res.StatusCode, res.Reason)
			case tc.code == 0:
				return
			case res == nil:
				t.Fatalf("passed, want %d", tc.code)
			case res.StatusCode != tc.code:
				t.Fatalf("got %d %s, want %d", res.StatusCode, res.Reason, tc.code)
			}
			if res.SipVersion != "SIP/2.0" {
				t.Fatalf("response version %q", res.SipVersion)
			}
			if tc.header != "" {
				name, value, _ := strings.Cut(tc.header, ": ")
				if h := res.GetHeader(name); h == nil || h.Value() != value {
					t.Fatalf("header %s = %v, want %q", name, h, value)
				}
			}
		})
	}
}

// tortureCase is one row of testdata/torture/expect.tsv.
type tortureCase struct {
	file, udp, tcp, server, note string
	data                         []byte
}

// codeRE finds status codes in the RFC's expectation text.
var codeRE = regexp.MustCompile(`\b[1-6][0-9][0-9]\b`)

// loadTorture reads our expectations and checks them against the corpus'
// own EXPECTATIONS.tsv: every message has a row, and where the RFC text
// names status codes ours is one of them.
func loadTorture(t *testing.T) []tortureCase {
	t.Helper()
	rfcText := map[string]string{}
	for _, dir := range []string{"rfc4475", "rfc5118"} {
		for _, row := range readTSV(t, filepath.Join("testdata/torture", dir, "EXPECTATIONS.tsv")) {
			rfcText[dir+"/"+row[0]] = row[len(row)-1]
		}
	}
	var cases []tortureCase
	for _, row := range readTSV(t, "testdata/torture/expect.tsv") {
		if len(row) != 5 {
			t.Fatalf("expect.tsv row %v: want 5 columns", row)
		}
		c := tortureCase{file: row[0], udp: row[1], tcp: row[2], server: row[3], note: row[4]}
		text, ok := rfcText[c.file]
		if !ok {
			t.Fatalf("expect.tsv names %s, which no EXPECTATIONS.tsv lists", c.file)
		}
		delete(rfcText, c.file)
		// Rejections must be what the RFC names (the server column holds
		// what handlers answer to accepted messages: not checked).
		if codes := codeRE.FindAllString(text, -1); len(codes) > 0 {
			for _, got := range []string{c.udp, c.tcp} {
				for _, tok := range strings.Split(got, "+") {
					if _, err := strconv.Atoi(tok); err == nil && !slices.Contains(codes, tok) {
						t.Errorf("%s: expect.tsv says %s, RFC expects %v (%q)", c.file, tok, codes, text)
					}
				}
			}
		}
		var err error
		if c.data, err = os.ReadFile(filepath.Join("testdata/torture", c.file)); err != nil {
			t.Fatal(err)
		}
		cases = append(cases, c)
	}
	for f := range rfcText {
		t.Errorf("%s has no row in expect.tsv", f)
	}
	return cases
}

func readTSV(t *testing.T, path string) [][]string {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var rows [][]string
	sc := bufio.NewScanner(fh)
	header := true
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if header { // column names
			header = false
			continue
		}
		rows = append(rows, strings.Split(line, "\t"))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// sipgoRejects mirrors sipgo's transaction layer (makeServerTxKey), which
// answers 400 itself when it cannot build a transaction key.
func sipgoRejects(req *sip.Request) bool {
	via, cseq := req.Via(), req.CSeq()
	if via == nil || cseq == nil {
		return true
	}
	if b, _ := via.Params.Get("branch"); strings.HasPrefix(b, sip.RFC3261BranchMagicCookie) && len(b) > len(sip.RFC3261BranchMagicCookie) {
		return false
	}
	if req.From() == nil || req.CallID() == nil {
		return true
	}
	_, ok := req.From().Params.Get("tag")
	return !ok
}

// stageOutcome is what the stages after parsing make of one message.
func stageOutcome(s *Server, m sip.Message) string {
	req, ok := m.(*sip.Request)
	if !ok {
		return "drop" // a response nobody waits for
	}
	if sipgoRejects(req) {
		return "400"
	}
	if res := s.validate(req); res != nil {
		if req.IsAck() {
			return "drop"
		}
		return strconv.Itoa(res.StatusCode)
	}
	return "accept"
}

// answerOutcome is the status code of a filter answer, or "unparsable" if
// sipgo could not read it on the other end (the sender could not match it).
func answerOutcome(res *sip.Response) string {
	m, err := sip.ParseMessage([]byte(res.String()))
	if err != nil {
		return "unparsable"
	}
	r := m.(*sip.Response)
	if r.Via() == nil || r.CallID() == nil || r.From() == nil || r.To() == nil {
		return "incomplete"
	}
	return strconv.Itoa(r.StatusCode)
}

// offlineDatagram runs one UDP datagram through filter, sipgo's parser and
// validate.
func offlineDatagram(s *Server, f *readFilter, log *answerLog, data []byte) string {
	buf := append(make([]byte, 0, len(data)+64), data...)
	out, _ := f.filter(testUDP, buf)
	if res := log.take(); len(res) > 0 {
		return answerOutcome(res[0])
	}
	if len(out) == 0 {
		return "drop"
	}
	m, err := sip.ParseMessage(out)
	if err != nil {
		return "drop" // sipgo drops what it cannot parse
	}
	return stageOutcome(s, m)
}

// offlineStream runs chunks of one TCP connection through filter, sipgo's
// stream parser and validate.
func offlineStream(s *Server, f *readFilter, log *answerLog, chunks [][]byte) string {
	ps := sip.NewParser().NewSIPStream()
	var got []string
	closed := false
	for i := 0; ; i++ {
		if i == len(chunks) {
			chunks = append(chunks, laterRead(f)...)
			if i == len(chunks) {
				break
			}
		}
		c := chunks[i]
		buf := append(make([]byte, 0, len(c)+64), c...)
		dropped := f.stats().Dropped
		out, err := f.filter(testTCP, buf)
		for _, r := range log.take() {
			got = append(got, answerOutcome(r))
		}
		for range f.stats().Dropped - dropped {
			got = append(got, "drop")
		}
		if err != nil {
			closed = true
			break
		}
		if len(out) == 0 || (len(out) <= 4 && strings.Trim(string(out), "\r\n") == "") {
			continue
		}
		if perr := ps.ParseSIPStream(out, func(m sip.Message) { got = append(got, stageOutcome(s, m)) }); perr != nil && !errors.Is(perr, sip.ErrParseSipPartial) {
			got = append(got, "sipgo-closes")
			closed = true
			break
		}
	}
	slices.Sort(got)
	if closed {
		got = append(got, "close")
	}
	if len(got) == 0 {
		return "wait"
	}
	return strings.Join(got, "+")
}

// TestTortureOffline feeds every RFC 4475 and RFC 5118 message through the
// read filter, sipgo's parser and validate, as one UDP datagram and as a
// TCP stream (whole, cut at every offset, byte by byte), and compares with
// testdata/torture/expect.tsv.
func TestTortureOffline(t *testing.T) {
	s := testServer()
	var table strings.Builder
	fmt.Fprintf(&table, "%-42s %-8s %-8s %-12s %-12s\n", "file", "udp-want", "udp-got", "tcp-want", "tcp-got")
	for _, c := range loadTorture(t) {
		f, log, _ := newTestFilter()
		udp := offlineDatagram(s, f, log, c.data)
		f, log, _ = newTestFilter()
		tcp := offlineStream(s, f, log, [][]byte{c.data})
		fmt.Fprintf(&table, "%-42s %-8s %-8s %-12s %-12s\n", c.file, c.udp, udp, c.tcp, tcp)
		if udp != c.udp {
			t.Errorf("%s over UDP: got %s, want %s (%s)", c.file, udp, c.udp, c.note)
		}
		if tcp != c.tcp {
			t.Errorf("%s over TCP: got %s, want %s (%s)", c.file, tcp, c.tcp, c.note)
		}
		for i := 1; i < len(c.data); i++ {
			f, log, _ = newTestFilter()
			if got := offlineStream(s, f, log, [][]byte{c.data[:i], c.data[i:]}); got != tcp {
				t.Errorf("%s over TCP cut at %d: got %s, whole gives %s", c.file, i, got, tcp)
				break
			}
		}
		var bytewise [][]byte
		for i := range c.data {
			bytewise = append(bytewise, c.data[i:i+1])
		}
		f, log, _ = newTestFilter()
		if got := offlineStream(s, f, log, bytewise); got != tcp {
			t.Errorf("%s over TCP byte by byte: got %s, whole gives %s", c.file, got, tcp)
		}
	}
	t.Logf("outcomes:\n%s", table.String())
}

// --- server test ---

// TestTortureServer sends every RFC 4475 and RFC 5118 message to a running
// Server, over UDP and over TCP, and compares the answers with
// testdata/torture/expect.tsv; then it checks every server still answers
// OPTIONS with 200.
//
// Messages are byte-exact, so several share a transaction key (branch,
// sent-by, method): sipgo would treat a second one as a retransmission of
// the first. Each message therefore goes to a server that has not yet seen
// its key; a few servers are started for that.
func TestTortureServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts SIP servers")
	}
	cases := loadTorture(t)
	pool := &tortureServers{t: t, used: map[*Server]map[string]bool{}}
	var table strings.Builder
	fmt.Fprintf(&table, "%-42s %-4s %-14s %-14s\n", "file", "tp", "want", "got")
	for _, transport := range []string{"udp", "tcp"} {
		for _, c := range cases {
			want := c.udp
			if transport == "tcp" {
				want = c.tcp
			}
			if c.server != "-" {
				want = c.server
			}
			s := pool.serverFor(txKeyOf(c.data))
			got := exchange(t, transport, serverAddr(t, s, transport), c.data, want)
			ok := outcomeMatches(want, got)
			mark := ""
			if !ok {
				mark = "  MISMATCH"
				t.Errorf("%s over %s: got %s, want %s (%s)", c.file, transport, got, want, c.note)
			}
			fmt.Fprintf(&table, "%-42s %-4s %-14s %-14s%s\n", c.file, transport, want, got, mark)
		}
	}
	for i, s := range pool.servers {
		for _, transport := range []string{"udp", "tcp"} {
			opt := sipMsg(
				"OPTIONS sip:ping@example.com SIP/2.0",
				fmt.Sprintf("Via: SIP/2.0/%s 127.0.0.1:9;branch=z9hG4bK-alive-%d-%s;rport", strings.ToUpper(transport), i, transport),
				"From: <sip:probe@example.com>;tag=alive",
				"To: <sip:ping@example.com>",
				fmt.Sprintf("Call-ID: alive-%d-%s", i, transport),
				"CSeq: 1 OPTIONS",
				"Max-Forwards: 70",
				"Content-Length: 0",
			)
			if got := exchange(t, transport, serverAddr(t, s, transport), []byte(opt), "200"); got != "200" {
				t.Errorf("server %d over %s after the torture run: OPTIONS got %s, want 200", i, transport, got)
			}
		}
	}
	t.Logf("%d servers; outcomes:\n%s", len(pool.servers), table.String())
}

// tortureServers starts Servers on demand, one per transaction-key clash.
type tortureServers struct {
	t       *testing.T
	servers []*Server
	used    map[*Server]map[string]bool
}

func (p *tortureServers) serverFor(key string) *Server {
	for _, s := range p.servers {
		if key == "" || !p.used[s][key] {
			if key != "" {
				p.used[s][key] = true
			}
			return s
		}
	}
	s := startTestServer(p.t, len(p.servers))
	p.servers = append(p.servers, s)
	p.used[s] = map[string]bool{}
	if key != "" {
		p.used[s][key] = true
	}
	return s
}

// startTestServer runs a Server on loopback with a throw-away state.
func startTestServer(t *testing.T, n int) *Server {
	t.Helper()
	cfg := &config.Config{}
	cfg.SIP.Listen = []string{"udp://127.0.0.1:5060", "tcp://127.0.0.1:5060"} // validated only; Listen below binds port 0
	cfg.SIP.Domain = "example.com"
	cfg.Media.Address = "127.0.0.1"
	cfg.Media.Ports = fmt.Sprintf("%d-%d", 30000+n*100, 30000+n*100+99)
	cfg.State.Dir = t.TempDir()
	cfg.Records.Dir = t.TempDir()
	cfg.Users = []config.User{{Name: "j.user", Password: "torture-secret"}}
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	s, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := s.Listen(context.Background(), []string{"udp://127.0.0.1:0", "tcp://127.0.0.1:0"}); err != nil {
		_ = s.Close()
		t.Fatalf("Listen: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func serverAddr(t *testing.T, s *Server, transport string) string {
	t.Helper()
	for _, a := range s.Addrs() {
		if addr, ok := strings.CutPrefix(a, transport+"://"); ok {
			return addr
		}
	}
	t.Fatalf("server has no %s listener: %v", transport, s.Addrs())
	return ""
}

// txKeyOf approximates sipgo's server transaction key of a message (branch,
// sent-by and method, or Call-ID and CSeq without a magic-cookie branch);
// "" when sipgo will not create a transaction for it.
func txKeyOf(data []byte) string {
	m, err := sip.ParseMessage(data)
	if err != nil {
		return ""
	}
	req, ok := m.(*sip.Request)
	if !ok || req.Via() == nil || req.CSeq() == nil {
		return ""
	}
	method := req.CSeq().MethodName
	if method == sip.ACK || method == sip.CANCEL {
		method = sip.INVITE
	}
	via := req.Via()
	if b, _ := via.Params.Get("branch"); strings.HasPrefix(b, sip.RFC3261BranchMagicCookie) && len(b) > len(sip.RFC3261BranchMagicCookie) {
		return fmt.Sprintf("b|%s|%s|%d|%s", b, via.Host, via.Port, method)
	}
	cid := ""
	if req.CallID() != nil {
		cid = req.CallID().Value()
	}
	return fmt.Sprintf("c|%s|%d", cid, req.CSeq().SeqNo)
}

// rejections are the codes that mean "your request is malformed or asks for
// what is not supported"; an accepted message must not get one. 500 means
// the server broke.
var rejections = map[string]bool{
	"400": true, "406": true, "413": true, "414": true, "415": true, "416": true,
	"420": true, "421": true, "500": true, "501": true, "505": true, "513": true,
}

// outcomeMatches compares a server outcome ("401", "400+close", "drop") with
// an expectation; "accept" stands for any answer that is not a rejection,
// and on TCP "wait" and "drop" both mean nothing came back.
func outcomeMatches(want, got string) bool {
	norm := func(s string) string {
		if s == "wait" || s == "" {
			return "drop"
		}
		return s
	}
	wt, gt := strings.Split(norm(want), "+"), strings.Split(norm(got), "+")
	if len(wt) != len(gt) {
		return false
	}
	for i := range wt {
		switch {
		case wt[i] == gt[i]:
		case wt[i] == "accept" && gt[i] != "drop" && gt[i] != "close" && !rejections[gt[i]]:
		default:
			return false
		}
	}
	return true
}

// exchange sends data over a fresh UDP socket or TCP connection and returns
// what came back: the final status codes (a provisional alone counts as
// "1xx"), "+close" when the server closed the connection, or "drop".
func exchange(t *testing.T, transport, addr string, data []byte, want string) string {
	t.Helper()
	quiet := 500 * time.Millisecond // how long silence takes to count as no answer
	answers := 0
	for _, w := range strings.Split(want, "+") {
		if w != "drop" && w != "wait" && w != "close" {
			answers++
		}
	}
	deadline := time.Now().Add(3 * time.Second)
	if answers == 0 {
		deadline = time.Now().Add(quiet)
	}
	conn, err := net.Dial(transport, addr)
	if err != nil {
		t.Fatalf("dial %s %s: %v", transport, addr, err)
	}
	defer conn.Close()
	if _, err := conn.Write(data); err != nil {
		t.Fatalf("write: %v", err)
	}

	var finals []string
	provisional, closed := false, false
	ps := sip.NewParser().NewSIPStream()
	buf := make([]byte, 65536)
	for time.Now().Before(deadline) {
		_ = conn.SetReadDeadline(deadline)
		n, err := conn.Read(buf)
		if n > 0 {
			handle := func(m sip.Message) {
				if r, ok := m.(*sip.Response); ok {
					if r.StatusCode < 200 {
						provisional = true
					} else {
						finals = append(finals, strconv.Itoa(r.StatusCode))
					}
				}
			}
			if transport == "udp" {
				if m, err := sip.ParseMessage(buf[:n]); err == nil {
					handle(m)
				}
			} else if err := ps.ParseSIPStream(buf[:n], handle); err != nil && !errors.Is(err, sip.ErrParseSipPartial) {
				t.Errorf("unparsable answer from %s: %v", transport, err)
			}
		}
		if err != nil {
			var ne net.Error
			if transport == "tcp" && !(errors.As(err, &ne) && ne.Timeout()) {
				closed = true
			}
			break
		}
		if answers > 0 && len(finals) >= answers && !strings.HasSuffix(want, "close") {
			break
		}
		if len(finals) >= answers && strings.HasSuffix(want, "close") && answers > 0 {
			deadline = time.Now().Add(quiet) // the close should follow promptly
		}
	}
	slices.Sort(finals)
	out := finals
	if len(out) == 0 && provisional {
		out = []string{"1xx"}
	}
	if closed {
		out = append(out, "close")
	}
	if len(out) == 0 {
		return "drop"
	}
	return strings.Join(out, "+")
}
