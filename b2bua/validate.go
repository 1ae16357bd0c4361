package b2bua

import (
	"strings"

	"github.com/emiago/sipgo/sip"
)

// supportedOptionTags lists the RFC 3261 §19.2 option tags Switchboard
// implements, as a Supported header value; a Require naming another gets
// 420. 100rel: reliable provisionals (RFC 3262, call_prack.go); timer:
// session timers (RFC 4028, call_timer.go); replaces: INVITE with
// Replaces (RFC 3891, call_replaces.go).
const supportedOptionTags = optionTag100rel + ", " + optionTagTimer + ", " + optionTagReplaces

// sdpAccept is what Switchboard accepts as a session description body.
const sdpAccept = "application/sdp"

// validate applies the checks RFC 3261 §8.2 asks of a UAS before it acts on
// a request, in the RFC's order, plus the single-value and framing checks
// RFC 4475 §3.3 asks for. It returns nil when the request may be processed,
// otherwise the response to send. For an ACK a non-nil result means "drop
// it": an ACK is never answered.
//
// Malformed syntax never gets here: the read filter answers it.
func (s *Server) validate(req *sip.Request) *sip.Response {
	// RFC 3261 §21.5.7: only SIP/2.0 is spoken (505 otherwise). The read
	// filter catches this first; the check stays for messages that bypass it.
	if !strings.EqualFold(req.SipVersion, "SIP/2.0") {
		res := s.response(req, 505, "", nil)
		res.SipVersion = "SIP/2.0"
		return res
	}

	// §8.2.1: a method the UAS does not know gets 501 with Allow. This comes
	// before the CSeq check so that RFC 4475 §3.1.2.18 gets its preferred 501.
	if !knownMethod(req.Method) {
		res := s.response(req, 501, "", nil)
		res.AppendHeader(sip.NewHeader("Allow", allowMethods))
		return res
	}

	// §8.1.1: To, From, CSeq, Call-ID and Via are mandatory (Max-Forwards
	// too, but RFC 2543 peers omit it: RFC 4475 §3.4.1). RFC 4475 §3.3.8:
	// single-value fields must appear once.
	if reason := headerCountProblem(req); reason != "" {
		return s.response(req, 400, reason, nil)
	}

	// §8.1.1.5: the CSeq method matches the request method (RFC 4475
	// §3.1.2.17). sipgo upper-cases the request-line method, so compare
	// without case.
	if !strings.EqualFold(string(req.CSeq().MethodName), string(req.Method)) {
		return s.response(req, 400, "CSeq Method Does Not Match Request", nil)
	}

	// §8.2.2.1: 416 for a Request-URI scheme Switchboard does not serve.
	if !supportedScheme(req.Recipient.Scheme) {
		return s.response(req, 416, "", nil)
	}

	// §10.3 step 3 and RFC 4475 §3.3.4: a registration's address-of-record
	// (the To URI) must be a SIP or SIPS URI.
	if req.Method == sip.REGISTER && !supportedScheme(req.To().Address.Scheme) {
		return s.response(req, 400, "Address-of-Record Must Be a SIP or SIPS URI", nil)
	}

	// §8.2.2.3: unknown option tags in Require get 420 with Unsupported.
	// Require in ACK and CANCEL is ignored (same section); Proxy-Require is
	// for proxies and a UAS ignores it (RFC 4475 §3.3.5).
	if req.Method != sip.ACK && req.Method != sip.CANCEL {
		if unsupported := unsupportedRequire(req); len(unsupported) > 0 {
			res := s.response(req, 420, "", nil)
			res.AppendHeader(sip.NewHeader("Unsupported", strings.Join(unsupported, ", ")))
			return res
		}
	}

	if res := s.checkBody(req); res != nil {
		return res
	}

	// RFC 3261 §21.4.7: Switchboard's answer to an INVITE or UPDATE carries
	// SDP; an Accept without it cannot be satisfied (RFC 4475 §3.3.15).
	if (req.Method == sip.INVITE || req.Method == sip.UPDATE) && !acceptsSDP(req) {
		return s.response(req, 406, "Not Acceptable", nil)
	}
	return nil
}

// checkBody applies RFC 3261 §8.2.3 (content processing) and §18.3
// (Content-Length).
func (s *Server) checkBody(req *sip.Request) *sip.Response {
	body := req.Body()
	if cl := req.ContentLength(); cl != nil && int(*cl) != len(body) {
		return s.response(req, 400, "Content-Length Does Not Match Body", nil)
	}
	if len(body) == 0 || req.Method == sip.ACK || req.Method == sip.CANCEL {
		return nil
	}
	for _, h := range req.Headers() {
		if !isHeader(h.Name(), "content-encoding", "e") {
			continue
		}
		for _, enc := range strings.Split(h.Value(), ",") {
			if enc = strings.TrimSpace(enc); enc != "" && !strings.EqualFold(enc, "identity") {
				return s.unsupportedMedia(req)
			}
		}
	}
	if !carriesSDP(req.Method) {
		return nil // other bodies are the handler's business
	}
	ct := req.ContentType()
	if ct == nil {
		// §7.4.1: a non-empty body MUST have a Content-Type.
		return s.response(req, 400, "Missing Content-Type", nil)
	}
	if !strings.EqualFold(mediaType(ct.Value()), sdpAccept) {
		// multipart/mixed (SIP-I) is not unpacked yet.
		return s.unsupportedMedia(req)
	}
	return nil
}

// unsupportedMedia is the 415 of RFC 3261 §8.2.3, listing what is accepted.
func (s *Server) unsupportedMedia(req *sip.Request) *sip.Response {
	res := s.response(req, 415, "", nil)
	res.AppendHeader(sip.NewHeader("Accept", sdpAccept))
	res.AppendHeader(sip.NewHeader("Accept-Encoding", "identity"))
	return res
}

// knownMethod reports the methods Switchboard has a handler for (see
// Server.routes); MESSAGE, SUBSCRIBE and PUBLISH are known and get 405 there.
func knownMethod(m sip.RequestMethod) bool {
	switch m {
	case sip.INVITE, sip.ACK, sip.BYE, sip.CANCEL, sip.OPTIONS, sip.REGISTER, sip.INFO,
		sip.UPDATE, sip.REFER, sip.NOTIFY, sip.PRACK, sip.MESSAGE, sip.SUBSCRIBE, sip.PUBLISH:
		return true
	}
	return false
}

// carriesSDP reports the methods whose body is a session description.
func carriesSDP(m sip.RequestMethod) bool {
	return m == sip.INVITE || m == sip.UPDATE || m == sip.PRACK
}

// headerCountProblem checks that the mandatory headers are present and the
// single-value ones appear once; it returns a reason phrase for a 400.
func headerCountProblem(req *sip.Request) string {
	var via, from, to, callID, cseq, maxFwd, clen, ctype, contact int
	for _, h := range req.Headers() {
		switch h.(type) {
		case *sip.ViaHeader:
			via++
		case *sip.FromHeader:
			from++
		case *sip.ToHeader:
			to++
		case *sip.CallIDHeader:
			callID++
		case *sip.CSeqHeader:
			cseq++
		case *sip.MaxForwardsHeader:
			maxFwd++
		case *sip.ContentLengthHeader:
			clen++
		case *sip.ContentTypeHeader:
			ctype++
		case *sip.ContactHeader:
			contact++
		}
	}
	switch {
	case via == 0:
		return "Missing Via"
	case from == 0:
		return "Missing From"
	case to == 0:
		return "Missing To"
	case callID == 0:
		return "Missing Call-ID"
	case cseq == 0:
		return "Missing CSeq"
	case from > 1:
		return "Multiple From"
	case to > 1:
		return "Multiple To"
	case callID > 1:
		return "Multiple Call-ID"
	case cseq > 1:
		return "Multiple CSeq"
	case maxFwd > 1:
		return "Multiple Max-Forwards"
	case clen > 1:
		return "Multiple Content-Length"
	case ctype > 1:
		return "Multiple Content-Type"
	case contact > 1 && req.Method == sip.INVITE:
		// §8.1.1.8: exactly one Contact in a dialog-creating request.
		return "Multiple Contact"
	}
	return ""
}

// unsupportedRequire returns the option tags of Require headers that
// Switchboard does not implement.
func unsupportedRequire(req *sip.Request) []string {
	var out []string
	for _, h := range req.Headers() {
		if !strings.EqualFold(h.Name(), "require") {
			continue
		}
		for _, tag := range strings.Split(h.Value(), ",") {
			if tag = strings.TrimSpace(tag); tag != "" && !supportedOptionTag(tag) {
				out = append(out, tag)
			}
		}
	}
	return out
}

func supportedOptionTag(tag string) bool {
	for _, t := range strings.Split(supportedOptionTags, ",") {
		if strings.EqualFold(strings.TrimSpace(t), tag) {
			return true
		}
	}
	return false
}

// acceptsSDP reports whether the request's Accept headers, if any, admit
// application/sdp (RFC 3261 §20.1: absent means application/sdp). An empty
// Accept strictly means "nothing"; it is tolerated, as phones send it
// carelessly.
func acceptsSDP(req *sip.Request) bool {
	seen, empty := false, true
	for _, h := range req.Headers() {
		if !strings.EqualFold(h.Name(), "accept") {
			continue
		}
		seen = true
		for _, r := range strings.Split(h.Value(), ",") {
			mt, params, _ := strings.Cut(r, ";")
			mt = strings.TrimSpace(mt)
			if mt == "" {
				continue
			}
			empty = false
			if zeroQ(params) {
				continue
			}
			if strings.EqualFold(mt, sdpAccept) || strings.EqualFold(mt, "application/*") || mt == "*/*" {
				return true
			}
		}
	}
	return !seen || empty
}

// zeroQ reports a q=0 parameter (RFC 3261 §20.1: not acceptable).
func zeroQ(params string) bool {
	for _, p := range strings.Split(params, ";") {
		k, v, ok := strings.Cut(p, "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
			v = strings.TrimRight(strings.TrimSpace(v), "0")
			return v == "0." || v == "0" || v == ""
		}
	}
	return false
}

// mediaType is the type/subtype of a Content-Type value, without parameters.
func mediaType(v string) string {
	t, _, _ := strings.Cut(v, ";")
	return strings.TrimSpace(t)
}

// isHeader matches a header name against its full and compact forms.
func isHeader(name, full, compact string) bool {
	return strings.EqualFold(name, full) || (compact != "" && strings.EqualFold(name, compact))
}
