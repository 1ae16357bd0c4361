package b2bua

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// shed is the read filter's admission step (overload.go): it answers a
// new INVITE with a stateless 503 and Retry-After (RFC 3261 §21.5.4,
// §20.33) when Switchboard is overloaded, and reports whether it did (then
// msg goes no further). msg is a complete message the scan passed;
// headerEnd is where its header section ends. Everything but an INVITE
// costs one prefix compare here.
func (f *readFilter) shed(info sip.TransportReadProps, msg []byte, headerEnd int) bool {
	o := f.s.overload
	if o == nil || len(msg) < 7 || string(msg[:7]) != "INVITE " {
		return false
	}
	o.oc.offered.Add(1)
	reason := o.overloaded()
	if reason == shedNone {
		return false
	}
	// Overloaded: from here on the cost is paid only by INVITEs while
	// calls are refused, and is a fraction of a parse.
	h, ok := inviteHeadersOf(msg[:max(headerEnd, 0)])
	if !ok || hasTagParam(h.to) || f.s.startedCall(h.initialKey()) {
		return false // in-dialog, unsure, or a retransmission: never shed
	}
	res := sip.NewResponse(503, reasonPhrase(503))
	for i, v := range h.vias {
		if i == 0 {
			v += o.ocViaParams(v) // RFC 7339 (overload_oc.go)
		}
		res.AppendHeader(sip.NewHeader("Via", v))
	}
	res.AppendHeader(sip.NewHeader("From", h.from))
	res.AppendHeader(sip.NewHeader("To", h.to+";tag="+f.s.ids.hex(8)))
	res.AppendHeader(sip.NewHeader("Call-ID", h.callID))
	res.AppendHeader(sip.NewHeader("CSeq", h.cseq))
	res.AppendHeader(sip.NewHeader("Retry-After", o.retryAfter))
	res.AppendHeader(sip.NewHeader("Server", f.s.userAgent))
	res.AppendHeader(sip.NewHeader("Content-Length", "0"))
	o.refused(reason)
	if err := f.write(info, res); err != nil {
		f.log.Debug("overload 503 failed", "raddr", addrString(info.RemoteAddr), "error", err)
	}
	return true
}

// inviteHeaders are the raw values a stateless answer to an INVITE echoes.
type inviteHeaders struct {
	vias                   []string
	from, to, callID, cseq string
}

// initialKey is initialKey (server.go) from the raw values.
func (h *inviteHeaders) initialKey() string {
	seq, _, _ := strings.Cut(h.cseq, " ")
	n, _ := strconv.ParseUint(strings.TrimSpace(seq), 10, 32)
	return "invite|" + h.callID + "|" + tagParam(h.from) + "|" + strconv.FormatUint(n, 10)
}

// inviteHeadersOf reads the header section of a message the scan passed
// (CRLF lines, full or compact names). A folded line, a missing header or
// a repeated From, To, Call-ID or CSeq makes it give up (ok false): the
// INVITE is then let through.
func inviteHeadersOf(hdr []byte) (h inviteHeaders, ok bool) {
	nl := bytes.Index(hdr, []byte("\r\n"))
	if nl < 0 {
		return h, false
	}
	for rest := hdr[nl+2:]; len(rest) > 0; {
		line := rest
		if i := bytes.Index(rest, []byte("\r\n")); i >= 0 {
			line, rest = rest[:i], rest[i+2:]
		} else {
			rest = nil
		}
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			return h, false
		}
		name, value, found := bytes.Cut(line, []byte(":"))
		if !found {
			continue
		}
		v := string(trimWS(value))
		var dst *string
		switch headerKindOf(trimWS(name)) {
		case hVia:
			h.vias = append(h.vias, v)
		case hFrom:
			dst = &h.from
		case hTo:
			dst = &h.to
		case hCallID:
			dst = &h.callID
		case hCSeq:
			dst = &h.cseq
		}
		if dst != nil {
			if *dst != "" {
				return h, false // twice: which one sipgo keeps is its business
			}
			*dst = v
		}
	}
	return h, len(h.vias) > 0 && h.from != "" && h.to != "" && h.callID != "" && h.cseq != ""
}

// tagParam returns the tag parameter of a raw From or To value ("" if none),
// as sipgo's parser reads it: a header parameter, after the <...> part.
func tagParam(v string) string {
	if i := strings.LastIndexByte(v, '>'); i >= 0 {
		v = v[i:]
	}
	for _, p := range strings.Split(v, ";")[1:] {
		name, val, _ := strings.Cut(p, "=")
		if strings.EqualFold(strings.TrimSpace(name), "tag") {
			return strings.TrimSpace(val)
		}
	}
	return ""
}
