package b2bua

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/media"
)

// Leg is one side of a call: a SIP dialog plus the media endpoint that faces
// it. Dialog state is Switchboard's own (RFC 3261 §12): sipgo only moves
// messages and runs transactions.
//
// A Leg belongs to its call: only the call's events (under Call.mu) touch
// it after the call starts.
type Leg struct {
	// Name is "a" (the caller's side) or "b" (the callee's side); it labels logs.
	Name string

	CallID    string
	LocalTag  string
	RemoteTag string
	// LocalURI and RemoteURI are the From/To addresses of requests this leg sends.
	LocalURI, RemoteURI         sip.Uri
	LocalDisplay, RemoteDisplay string

	// LocalCSeq counts requests we send; RemoteCSeq is the highest seen from the peer.
	// They are independent (RFC 3261 §12.2.1.1, §12.2.2).
	LocalCSeq  uint32
	RemoteCSeq uint32

	// RouteSet is in the order used for Route headers of requests we send.
	RouteSet []sip.Uri
	// RemoteTarget is the peer's Contact: the Request-URI of in-dialog requests.
	RemoteTarget sip.Uri

	// Contact is Switchboard's own Contact on this leg.
	Contact sip.Uri
	// Transport and Dest say where in-dialog requests go: the address the
	// dialog's traffic came from (or went to), so a phone behind NAT or on a
	// TCP connection it opened gets its requests on the same path.
	Transport string
	Dest      string
	// Laddr is the listener the leg's messages leave from.
	Laddr sip.Addr

	// Media side of the leg.
	Endpoint *media.Endpoint
	Session  *media.Session
	// Codecs is the list negotiated for this leg (its own payload types).
	Codecs []media.Codec
	// Direction is the direction this leg's peer last offered or answered.
	Direction media.Direction
	// Ptime is the peer's a=ptime in ms (0: none) and RTCP the address its
	// SDP gave for RTCP (a=rtcp, else RTP port + 1).
	Ptime int
	RTCP  netip.AddrPort
	// XR is set when the peer's SDP has a=rtcp-xr: its RTCP then carries
	// Switchboard's XR blocks too (RFC 3611: VoIP metrics, RRTR/DLRR).
	XR bool

	// UAC: Switchboard sent the INVITE that created the dialog, so its
	// Call-ID is ours (RFC 3261 §14.1 glare timers).
	UAC bool

	// Rel is what the peer said of 100rel (RFC 3262), LocalRSeq the RSeq
	// of the last reliable provisional we sent it.
	Rel       relState
	LocalRSeq uint32
}

// nextCSeq advances and returns the leg's local CSeq.
func (l *Leg) nextCSeq() uint32 {
	l.LocalCSeq++
	return l.LocalCSeq
}

// newRequest builds an in-dialog request (RFC 3261 §12.2.1.1) with a fresh
// Via branch and the next local CSeq. ACK and CANCEL are built elsewhere
// because their CSeq follows the INVITE they belong to.
func (l *Leg) newRequest(s requestStamp, method sip.RequestMethod) *sip.Request {
	return l.buildRequest(s, method, l.nextCSeq())
}

func (l *Leg) buildRequest(s requestStamp, method sip.RequestMethod, cseq uint32) *sip.Request {
	req := sip.NewRequest(method, *l.RemoteTarget.Clone())
	req.AppendHeader(s.newVia(l.Transport, l.Laddr))
	for i := range l.RouteSet {
		req.AppendHeader(&sip.RouteHeader{Address: *l.RouteSet[i].Clone()})
	}
	from := &sip.FromHeader{DisplayName: l.LocalDisplay, Address: *l.LocalURI.Clone(), Params: sip.NewParams()}
	from.Params.Add("tag", l.LocalTag)
	req.AppendHeader(from)
	to := &sip.ToHeader{DisplayName: l.RemoteDisplay, Address: *l.RemoteURI.Clone(), Params: sip.NewParams()}
	if l.RemoteTag != "" {
		to.Params.Add("tag", l.RemoteTag)
	}
	req.AppendHeader(to)
	cid := sip.CallIDHeader(l.CallID)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: cseq, MethodName: method})
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	if method == sip.INVITE || method == sip.UPDATE {
		req.AppendHeader(&sip.ContactHeader{Address: *l.Contact.Clone()})
	}
	req.AppendHeader(sip.NewHeader("User-Agent", s.agent()))
	l.address(req)
	return req
}

// address points a request at the leg's transport and destination. Over
// UDP it leaves from the listener socket (so NAT bindings the peer opened to
// it stay valid); over TCP sipgo finds the connection by the peer's address,
// reusing the one a phone opened (pinning a local address there would make
// it dial a new connection instead).
func (l *Leg) address(req *sip.Request) {
	req.SetTransport(l.Transport)
	req.SetDestination(l.Dest)
	if strings.EqualFold(l.Transport, "UDP") {
		l.Laddr.Copy(&req.Laddr)
	}
}

// ack builds the ACK for a 2xx to an INVITE sent with CSeq cseq
// (RFC 3261 §13.2.2.4: same CSeq number, new branch, in-dialog routing).
func (l *Leg) ack(s requestStamp, cseq uint32, body []byte) *sip.Request {
	req := l.buildRequest(s, sip.ACK, cseq)
	if body != nil {
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	}
	req.SetBody(body)
	return req
}

// matchKey is the dialog table key: Call-ID plus our tag on this leg.
func (l *Leg) matchKey() string { return dialogKey(l.CallID, l.LocalTag) }

func dialogKey(callID, localTag string) string { return callID + "|" + localTag }

// setRemoteTargetFrom takes the peer's Contact from a request or response.
func (l *Leg) setRemoteTargetFrom(m sip.Message) {
	if c := contactOf(m); c != nil {
		l.RemoteTarget = *c.Address.Clone()
	}
}

func contactOf(m sip.Message) *sip.ContactHeader {
	switch v := m.(type) {
	case *sip.Request:
		return v.Contact()
	case *sip.Response:
		return v.Contact()
	}
	return nil
}

// routeSetFromRecordRoute collects Record-Route URIs in order; reverse gives
// the UAC's route set (RFC 3261 §12.1.2), as is gives the UAS's (§12.1.1).
func routeSetFromRecordRoute(m sip.Message, reverse bool) []sip.Uri {
	var hdrs []sip.Header
	switch v := m.(type) {
	case *sip.Request:
		hdrs = v.GetHeaders("Record-Route")
	case *sip.Response:
		hdrs = v.GetHeaders("Record-Route")
	}
	var out []sip.Uri
	for _, h := range hdrs {
		// A header line may carry several comma-separated values.
		for _, v := range splitHeaderList(h.Value()) {
			var u sip.Uri
			v = strings.TrimSpace(v)
			if i := strings.IndexByte(v, '<'); i >= 0 {
				if j := strings.IndexByte(v[i:], '>'); j > 0 {
					v = v[i+1 : i+j]
				}
			}
			if err := sip.ParseUri(v, &u); err == nil {
				out = append(out, u)
			}
		}
	}
	if reverse {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out
}

// splitHeaderList splits a comma-separated header value, ignoring commas
// inside <...> and quotes.
func splitHeaderList(v string) []string {
	var out []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '"':
			quoted = !quoted
		case '<':
			if !quoted {
				depth++
			}
		case '>':
			if !quoted && depth > 0 {
				depth--
			}
		case ',':
			if !quoted && depth == 0 {
				out = append(out, v[start:i])
				start = i + 1
			}
		}
	}
	return append(out, v[start:])
}

func tagOf(p sip.HeaderParams) string {
	t, _ := p.Get("tag")
	return t
}

func itoa(n int) string { return strconv.Itoa(n) }
