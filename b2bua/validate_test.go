package b2bua

import (
	"bufio"
	"context"
	"errors"
	"fmt"
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

// offlineDatagram runs one UDP datagram through filter, sipgo's parser and
// validate.
func offlineDatagram(s *Server, f *readFilter, log *answerLog, data []byte) string {
	buf := append(make([]byte, 0, len(data)+64), data...)
	out, _ := f.filter(testUDP, buf)
	if res := log.take(); len(res) > 0 {
		return strconv.Itoa(res[0].StatusCode)
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
	for _, c := range chunks {
		buf := append(make([]byte, 0, len(c)+64), c...)
		dropped := f.stats().Dropped
		out, err := f.filter(testTCP, buf)
		for _, r := range log.take() {
			got = append(got, strconv.Itoa(r.StatusCode))
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
// TCP stream (whole, and cut at every offset), and compares with
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
	}
	t.Logf("outcomes:\n%s", table.String())
}

// --- server test ---
