package b2bua

import (
	"net"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// parseMsg parses a message written with \n line ends as M (*sip.Request
// or *sip.Response).
func parseMsg[M sip.Message](t *testing.T, raw string) M {
	t.Helper()
	msg, err := sip.ParseMessage([]byte(strings.ReplaceAll(raw, "\n", "\r\n")))
	if err != nil {
		t.Fatal(err)
	}
	m, ok := msg.(M)
	if !ok {
		t.Fatalf("parsed a %T", msg)
	}
	return m
}

func parseLegReq(t *testing.T, raw string) *sip.Request { return parseMsg[*sip.Request](t, raw) }
func parseRes(t *testing.T, raw string) *sip.Response   { return parseMsg[*sip.Response](t, raw) }

func testLeg() (*Server, *Leg) {
	s := &Server{userAgent: "Switchboard-test"}
	var target sip.Uri
	_ = sip.ParseUri("sip:bob@192.0.2.7:5062;transport=tcp", &target)
	l := &Leg{
		Name: "b", CallID: "cid-1", LocalTag: "ltag", RemoteTag: "rtag",
		LocalURI:     sip.Uri{Scheme: "sip", User: "1000", Host: "pbx.example"},
		RemoteURI:    sip.Uri{Scheme: "sip", User: "1001", Host: "pbx.example"},
		RemoteTarget: target,
		Contact:      sip.Uri{Scheme: "sip", User: "sb", Host: "127.0.0.1", Port: 5060},
		Transport:    "TCP", Dest: "198.51.100.9:40000",
		Laddr:     sip.Addr{IP: net.IPv4(127, 0, 0, 1), Port: 5060},
		LocalCSeq: 41,
	}
	return s, l
}

// TestLegInDialogRequest checks RFC 3261 §12.2.1.1: Request-URI is the remote
// target, Route is the route set in order, tags and Call-ID are the dialog's,
// CSeq increments per request, and the request goes where the dialog came from.
func TestLegInDialogRequest(t *testing.T) {
	s, l := testLeg()
	res := parseRes(t, `SIP/2.0 200 OK
Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-sbx
Record-Route: <sip:p3.example;lr>, <sip:p2.example;lr>
Record-Route: <sip:p1.example;lr>
From: <sip:1000@pbx.example>;tag=ltag
To: <sip:1001@pbx.example>;tag=rtag
Call-ID: cid-1
CSeq: 1 INVITE
Contact: <sip:bob@192.0.2.8:5070>
Content-Length: 0

`)
	// UAC side: the route set is the Record-Route reversed (§12.1.2).
	l.RouteSet = routeSetFromRecordRoute(res, true)
	l.setRemoteTargetFrom(res)

	bye := l.newRequest(s, sip.BYE)
	if got := bye.Recipient.String(); got != "sip:bob@192.0.2.8:5070" {
		t.Errorf("Request-URI %s, want the remote target from Contact", got)
	}
	var routes []string
	for _, h := range bye.GetHeaders("Route") {
		routes = append(routes, h.Value())
	}
	if strings.Join(routes, ",") != "<sip:p1.example;lr>,<sip:p2.example;lr>,<sip:p3.example;lr>" {
		t.Errorf("Route order %v", routes)
	}
	if tagOf(bye.From().Params) != "ltag" || tagOf(bye.To().Params) != "rtag" || callIDOf(bye) != "cid-1" {
		t.Errorf("dialog identity wrong: %s", bye.String())
	}
	if bye.CSeq().SeqNo != 42 || bye.CSeq().MethodName != sip.BYE {
		t.Errorf("CSeq %v, want 42 BYE", bye.CSeq())
	}
	if bye.Destination() != "198.51.100.9:40000" || bye.Transport() != "TCP" {
		t.Errorf("sent to %s over %s, want the dialog's path", bye.Destination(), bye.Transport())
	}
	if v := bye.Via(); v == nil || !strings.HasPrefix(v.Params.GetOr("branch", ""), branchPrefix) {
		t.Errorf("Via %v lacks our branch", bye.Via())
	}
	// The next request counts on; ACK reuses the INVITE's number.
	reinv := l.newRequest(s, sip.INVITE)
	if reinv.CSeq().SeqNo != 43 || reinv.Contact() == nil {
		t.Errorf("re-INVITE CSeq %d contact %v", reinv.CSeq().SeqNo, reinv.Contact())
	}
	ack := l.ack(s, 43, nil)
	if ack.CSeq().SeqNo != 43 || ack.CSeq().MethodName != sip.ACK {
		t.Errorf("ACK CSeq %v, want 43 ACK", ack.CSeq())
	}
	if ack.Via().Params.GetOr("branch", "") == reinv.Via().Params.GetOr("branch", "") {
		t.Error("ACK for a 2xx must have a new branch (RFC 3261 §13.2.2.4)")
	}
	if l.LocalCSeq != 43 {
		t.Errorf("ACK must not advance the local CSeq, it is %d", l.LocalCSeq)
	}
}

// TestUASRouteSet: the UAS keeps Record-Route in order (§12.1.1).
func TestUASRouteSet(t *testing.T) {
	req := parseLegReq(t, `INVITE sip:1001@pbx.example SIP/2.0
Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776
Record-Route: <sip:p1.example;lr>
Record-Route: <sip:p2.example;lr>,<sip:p3.example;lr>
From: <sip:1000@pbx.example>;tag=a
To: <sip:1001@pbx.example>
Call-ID: x
CSeq: 7 INVITE
Contact: <sip:1000@192.0.2.1>
Content-Length: 0

`)
	rs := routeSetFromRecordRoute(req, false)
	var hosts []string
	for _, u := range rs {
		hosts = append(hosts, u.Host)
	}
	if strings.Join(hosts, ",") != "p1.example,p2.example,p3.example" {
		t.Errorf("UAS route set %v", hosts)
	}
}

func TestSplitHeaderList(t *testing.T) {
	for in, want := range map[string]int{
		`<sip:a;lr>, <sip:b;lr>`:  2,
		`"Doe, John" <sip:j@x>`:   1,
		`<sip:a;lr?h=x,y>`:        1,
		`<sip:a>,<sip:b>,<sip:c>`: 3,
		``:                        1,
	} {
		if got := len(splitHeaderList(in)); got != want {
			t.Errorf("splitHeaderList(%q) = %d parts, want %d", in, got, want)
		}
	}
}
