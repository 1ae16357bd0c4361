package b2bua

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"
)

// The read filter is the first stage every received SIP byte crosses. sipgo
// drops a message its parser rejects without a word (UDP) or closes the
// connection (TCP), so the sender retransmits into silence; RFC 3261
// §21.4.1 and RFC 4475 want a 400 (or 505, 416) instead. The filter answers
// those itself and passes everything else on untouched:
//
//	bytes ─► frame ─► scan (one pass, no allocation)
//	  datagram: the packet      │ clean ──────────────────────────────► sipgo parser
//	  stream: per connection,   │ suspicious ─► sip ParseSIP ── ok ───► sipgo parser
//	  complete messages only    │                         └── fails ─┐
//	                            │ reject (505, 416, framing 400) ────┴► recover Via/From/To/
//	                            │                                       Call-ID/CSeq leniently
//	                            │                                       ─► answer, or drop
//
// The scan mirrors the failure conditions of sipgo's parser conservatively:
// whatever it calls clean sipgo parses (FuzzReadFilter checks this), so a
// well-formed message is parsed once. Only a suspicious one (folded lines,
// comma lists, odd URIs, ...) is parsed twice.
//
// Two decisions of other roles are taken here too, because this is the
// earliest and cheapest point: on UDP a request over its source's rate is
// dropped (security.go, admitDatagram), and a new INVITE that finds the
// server overloaded gets a stateless 503 (overload_answer.go, shed).
//
// On UDP the filter also adds ";rport" to a top Via without one (symmetric
// response routing, RFC 3581 §4 as a server may force it), so responses go
// back to the packet's source port: the phone behind NAT and the torture
// test client alike.

// maxStreamMessage bounds one message on a stream transport, as sipgo's
// parser does (sip.ParseMaxMessageLength).
const maxStreamMessage = 65535

// streamIdle is how long a stream's partial message is kept without new
// bytes; after that its state is assumed to belong to a closed connection.
const streamIdle = 2 * time.Minute

// readFilterStats counts what the filter did.
type readFilterStats struct {
	Passed   uint64 // messages handed to sipgo
	SlowPath uint64 // messages that needed a full parse to decide
	Answered uint64 // malformed requests answered by the filter
	Dropped  uint64 // messages dropped without an answer
	Junk     uint64 // lines skipped between messages on a stream
	Closed   uint64 // stream connections closed on a framing error
	Limited  uint64 // UDP requests over their source's rate, dropped
}

// readFilter implements sip.TransportReadFilter for Server.
//
// Lock order: mu only (it guards streams; nothing is called while held).
type readFilter struct {
	s      *Server
	log    *slog.Logger
	parser *sip.Parser
	now    func() time.Time
	// forceRport adds ";rport" to the top Via of UDP requests that lack it.
	forceRport bool
	// write sends an answer back where info says the message came from;
	// tests replace it.
	write func(info sip.TransportReadProps, res *sip.Response) error

	mu        sync.Mutex
	streams   map[connKey]*streamState
	lastSweep time.Time

	passed, slow, answered, dropped, junk, closed, limited atomic.Uint64
}

// connKey names one stream connection.
type connKey struct {
	local, remote netip.AddrPort
}

// streamState is one stream connection's partial message.
type streamState struct {
	buf  []byte // buf[off:] is the unconsumed tail
	off  int
	dead bool   // framing lost: close on the next read
	out  []byte // scratch for non-contiguous output
	last time.Time
	// What is known of the message the tail starts with, so that a
	// message arriving in many small reads is not rescanned from its start
	// each time: its first searched bytes hold no empty line; it is
	// complete at need bytes (0: not known yet).
	searched, need int
}

// newReadFilter builds the filter for s; s.ua may still be nil (it is only
// used to write answers, after listening started).
func newReadFilter(s *Server) *readFilter {
	f := &readFilter{
		s:          s,
		log:        s.log.With("component", "readfilter"),
		parser:     sip.NewParser(),
		now:        time.Now,
		forceRport: true,
		streams:    map[connKey]*streamState{},
	}
	f.write = f.writeAnswer
	return f
}

// stats returns a snapshot of the counters.
func (f *readFilter) stats() readFilterStats {
	return readFilterStats{
		Passed: f.passed.Load(), SlowPath: f.slow.Load(), Answered: f.answered.Load(),
		Dropped: f.dropped.Load(), Junk: f.junk.Load(), Closed: f.closed.Load(), Limited: f.limited.Load(),
	}
}

// filter is the sip.TransportReadFilter. It returns the bytes sipgo should
// parse (nil to skip), or an error to make sipgo close a stream connection.
// It never returns an error for UDP: that would stop the listener.
func (f *readFilter) filter(info sip.TransportReadProps, data []byte) ([]byte, error) {
	switch info.Transport {
	case "TCP", "TLS":
		return f.filterStream(info, data)
	default: // UDP, WS, WSS: one message per datagram or frame
		return f.filterDatagram(info, data), nil
	}
}

// filterDatagram handles one UDP packet or WebSocket frame.
func (f *readFilter) filterDatagram(info sip.TransportReadProps, data []byte) []byte {
	p := 0
	// Leading CRLFs are keep-alives (RFC 5626 §3.5.1); sipgo handles a packet
	// of nothing else, but not one that precedes a message.
	for p+1 < len(data) && data[p] == '\r' && data[p+1] == '\n' {
		p += 2
	}
	if len(bytes.Trim(data[p:], "\r\n")) == 0 {
		return data
	}
	msg := data[p:]
	if !startLineLike(msg) {
		f.dropped.Add(1)
		return nil
	}
	if !(len(msg) >= 4 && eqFold(msg[:4], "sip/")) && !f.s.admitDatagram(info) {
		f.limited.Add(1) // a request over its source's rate (security.go)
		return nil
	}
	r := scanMessage(msg)
	if r.kind != scanReject {
		switch {
		case r.headerEnd < 0:
			r.reject(400, "header section not terminated by an empty line", false)
		case r.clCount == 1 && r.headerEnd+r.cl > len(msg):
			// RFC 3261 §18.3: on a datagram a Content-Length larger than
			// the body is an error, answered with 400.
			r.reject(400, "Content-Length larger than the message", false)
		case r.clCount == 1:
			// RFC 3261 §18.3: octets beyond Content-Length are discarded.
			msg = msg[:r.headerEnd+r.cl]
		}
	}
	out, ok := f.decide(info, msg, &r)
	if !ok || f.shed(info, out, r.headerEnd) {
		return nil
	}
	if ins := f.viaAdditions(info, out, &r); ins != "" {
		out = insertAt(out, r.viaInsert, ins)
	}
	f.passed.Add(1)
	return out
}

// viaAdditions returns what goes at the end of the top Via's first value of
// a request about to be passed on: ";rport" on UDP (symmetric response
// routing), and a branch for an RFC 2543 request that sipgo could not
// match otherwise.
func (f *readFilter) viaAdditions(info sip.TransportReadProps, msg []byte, r *scanResult) string {
	if r.response || r.viaInsert <= r.viaStart || r.viaDone || r.badLines {
		// No Via, lines sipgo splits differently, or a top Via line holding
		// several values: sipgo splits those only in some spellings, and a
		// parameter added before the comma can change which.
		return ""
	}
	var ins string
	if f.forceRport && info.Transport == "UDP" && !r.viaRport {
		ins = ";rport"
	}
	if !hasMagicBranch(msg[r.viaStart:r.viaInsert]) {
		ins += rfc2543Branch(msg)
	}
	return ins
}

// decide applies a scan result to one complete message: it returns the
// message and true when sipgo should have it; otherwise it has answered or
// dropped it.
func (f *readFilter) decide(info sip.TransportReadProps, msg []byte, r *scanResult) ([]byte, bool) {
	switch r.kind {
	case scanClean:
		return msg, true
	case scanSuspicious:
		f.slow.Add(1)
		_, err := f.parser.ParseSIP(msg)
		if err == nil {
			return msg, true
		}
		r.reject(400, err.Error(), false)
	}
	f.answer(info, msg, r.code, r.detail, r.response || r.ack)
	return nil, false
}

// filterStream handles one read from a TCP or TLS connection. It keeps the
// connection's partial message and hands sipgo complete messages only, so
// that a message it answers never reaches sipgo's stream parser (which would
// close the connection on it). Clean messages of one read go out as one
// slice of it; the output is copied only when something in between was
// dropped or a Via grew.
func (f *readFilter) filterStream(info sip.TransportReadProps, data []byte) ([]byte, error) {
	key := connKeyOf(info)
	now := f.now()
	f.mu.Lock()
	st := f.streams[key]
	f.sweepLocked(now)
	if st != nil && st.dead {
		delete(f.streams, key)
	}
	f.mu.Unlock()
	if st != nil && st.dead {
		f.closed.Add(1)
		return nil, errors.New("stream framing was lost earlier")
	}

	in, fromPending := data, false
	hintSearched, hintNeed := 0, 0
	if st != nil && len(st.buf) > st.off {
		if now.Sub(st.last) > streamIdle {
			st.buf, st.off = st.buf[:0], 0
		} else {
			n := copy(st.buf, st.buf[st.off:])
			st.buf, st.off = append(st.buf[:n], data...), 0
			in, fromPending = st.buf, true
			hintSearched, hintNeed = st.searched, st.need
		}
	}
	if st != nil {
		st.searched, st.need = 0, 0
	}
	if !fromPending && len(bytes.Trim(in, "\r\n")) == 0 {
		// Keep-alive CRLFs between messages (RFC 5626 §3.5.1): sipgo answers
		// a double CRLF with a CRLF when the read is at most 4 bytes; more
		// is nothing to parse.
		if len(data) == 4 && info.RemoteAddr != nil {
			f.s.flows.heard(info.Transport, info.RemoteAddr.String(), now) // outbound.go
		}
		if len(data) <= 4 {
			return data, nil
		}
		return nil, nil
	}

	var pcs pieces
	p := 0
	var closeErr error
	waitSearched, waitNeed := 0, 0 // hints for the tail, when it is one message
	for p < len(in) {
		if p > 0 {
			hintSearched, hintNeed = 0, 0 // they describe the message at 0
		}
		if hintNeed > len(in) {
			waitNeed = hintNeed
			break
		}
		for p+1 < len(in) && in[p] == '\r' && in[p+1] == '\n' {
			p += 2
		}
		if p >= len(in) || (p+1 == len(in) && in[p] == '\r') {
			break
		}
		rest := in[p:]
		if !startLineLike(rest) {
			// Junk between messages (e.g. body octets beyond a too small
			// Content-Length): skip it line by line until a start line.
			nl := bytes.IndexByte(rest, '\n')
			if nl < 0 {
				if len(rest) > maxStreamMessage {
					closeErr = errors.New("unterminated junk line on stream")
				}
				break
			}
			f.junk.Add(1)
			p += nl + 1
			continue
		}
		from := max(hintSearched-3, 0)
		he := bytes.Index(rest[from:], []byte("\r\n\r\n"))
		if he < 0 {
			if len(rest) > maxStreamMessage {
				f.answer(info, rest, 513, "header section too large", false)
				closeErr = errors.New("header section exceeds the message size limit")
			}
			waitSearched = len(rest)
			break
		}
		he += from
		r := scanMessage(rest[:he+4])
		switch {
		case r.clCount == 0:
			// RFC 3261 §18.3: on a stream Content-Length MUST be present;
			// without it the message has no end.
			r.reject(400, "missing Content-Length on a stream transport", true)
		case r.badLines:
			r.reject(400, "bare CR or LF in the header section", true)
		case r.headerEnd+r.cl > maxStreamMessage:
			r.reject(513, "message too large", true)
		}
		if r.kind == scanReject && r.closeConn {
			f.answer(info, rest[:he+4], r.code, r.detail, r.response || r.ack)
			closeErr = fmt.Errorf("framing error: %s", r.detail)
			break
		}
		end := r.headerEnd + r.cl
		if end > len(rest) {
			waitNeed = end // wait for the body
			break
		}
		if msg, ok := f.decide(info, rest[:end], &r); ok && !f.shed(info, msg, r.headerEnd) {
			f.passed.Add(1)
			pcs.add(p, p+end, p+r.viaInsert, f.viaAdditions(info, msg, &r))
		}
		p += end
	}

	if closeErr != nil {
		if pcs.n == 0 {
			f.closed.Add(1)
			f.mu.Lock()
			delete(f.streams, key)
			f.mu.Unlock()
			return nil, closeErr
		}
		// Good messages came before the framing error in this read: hand
		// them over now and close on the next read.
		if st == nil {
			st = f.newStream(key)
		}
		st.dead, st.last = true, now
		p = len(in)
	}

	// Keep the tail for the next read. When in is st.buf the tail stays in
	// place (compacted on the next read, after sipgo has copied the output).
	switch {
	case p < len(in):
		if st == nil {
			st = f.newStream(key)
		}
		if fromPending {
			st.off = p
		} else {
			st.buf, st.off = append(st.buf[:0], in[p:]...), 0
		}
		st.searched, st.need = waitSearched, waitNeed
		st.last = now
	case st != nil && fromPending:
		st.off = len(st.buf)
	case st != nil:
		st.buf, st.off = st.buf[:0], 0
	}

	if out, ok := pcs.slice(in); ok {
		return out, nil
	}
	if st == nil {
		st = f.newStream(key)
		st.last = now
	}
	st.out = pcs.appendTo(st.out[:0], in)
	return st.out, nil
}

func (f *readFilter) newStream(key connKey) *streamState {
	st := &streamState{}
	f.mu.Lock()
	f.streams[key] = st
	f.mu.Unlock()
	return st
}

// piece is a span of a read to hand to sipgo, with ins inserted at at.
type piece struct {
	a, b, at int
	ins      string
}

// pieces collects the output of one read; the first few live on the stack.
type pieces struct {
	n     int
	fixed [4]piece
	more  []piece
}

func (ps *pieces) add(a, b, at int, ins string) {
	if ps.n > 0 {
		last := ps.at(ps.n - 1)
		if last.b == a && last.ins == "" && ins == "" {
			last.b = b
			return
		}
	}
	pc := piece{a: a, b: b, at: at, ins: ins}
	if ps.n < len(ps.fixed) {
		ps.fixed[ps.n] = pc
	} else {
		ps.more = append(ps.more, pc)
	}
	ps.n++
}

func (ps *pieces) at(i int) *piece {
	if i < len(ps.fixed) {
		return &ps.fixed[i]
	}
	return &ps.more[i-len(ps.fixed)]
}

// slice returns the output as a slice of in when it is one plain span.
func (ps *pieces) slice(in []byte) ([]byte, bool) {
	switch {
	case ps.n == 0:
		return nil, true
	case ps.n == 1 && ps.fixed[0].ins == "":
		return in[ps.fixed[0].a:ps.fixed[0].b], true
	}
	return nil, false
}

func (ps *pieces) appendTo(out, in []byte) []byte {
	for i := range ps.n {
		pc := ps.at(i)
		if pc.ins == "" {
			out = append(out, in[pc.a:pc.b]...)
			continue
		}
		out = append(out, in[pc.a:pc.at]...)
		out = append(out, pc.ins...)
		out = append(out, in[pc.at:pc.b]...)
	}
	return out
}

// sweepLocked forgets stream states idle for longer than streamIdle: their
// connections are gone (sipgo does not tell the filter). Runs at most once
// a minute. f.mu must be held.
func (f *readFilter) sweepLocked(now time.Time) {
	if now.Sub(f.lastSweep) < time.Minute {
		return
	}
	f.lastSweep = now
	for k, st := range f.streams {
		if now.Sub(st.last) > streamIdle {
			delete(f.streams, k)
		}
	}
}

func connKeyOf(info sip.TransportReadProps) connKey {
	return connKey{local: addrPortOf(info.LocalAddr), remote: addrPortOf(info.RemoteAddr)}
}

func addrPortOf(a net.Addr) netip.AddrPort {
	var ap netip.AddrPort
	switch v := a.(type) {
	case *net.TCPAddr:
		ap = v.AddrPort()
	case *net.UDPAddr:
		ap = v.AddrPort()
	case nil:
		return ap
	default:
		ap, _ = netip.ParseAddrPort(a.String())
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// insertAt inserts ins at offset at of msg, in place when msg's capacity
// allows (msg is the transport's read buffer, reused for the next read only
// after sipgo has parsed this one).
func insertAt(msg []byte, at int, ins string) []byte {
	n := len(msg)
	if cap(msg)-n >= len(ins) {
		msg = msg[:n+len(ins)]
		copy(msg[at+len(ins):], msg[at:n])
		copy(msg[at:], ins)
		return msg
	}
	out := make([]byte, 0, n+len(ins))
	out = append(out, msg[:at]...)
	out = append(out, ins...)
	return append(out, msg[at:]...)
}

// hasMagicBranch reports whether a top Via has an RFC 3261 branch: the
// magic cookie and something after it (§8.1.1.7), as sipgo requires to
// match it without the RFC 2543 rules.
func hasMagicBranch(seg []byte) bool {
	const cookie = "z9hG4bK"
	for i := 0; i+6 <= len(seg); i++ {
		if !eqFold(seg[i:i+6], "branch") {
			continue
		}
		j := skipLWS(seg, i+6)
		if j >= len(seg) || seg[j] != '=' {
			continue
		}
		j = skipLWS(seg, j+1)
		if len(seg)-j > len(cookie) && string(seg[j:j+len(cookie)]) == cookie {
			c := seg[j+len(cookie)]
			return c != ';' && c != ',' && c > ' '
		}
	}
	return false
}

func skipLWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// rfc2543Branch returns a ";branch=" parameter for an RFC 2543 request
// (no magic cookie) whose From has no tag sipgo can see: sipgo cannot build a
// transaction key for it and answers 400, yet RFC 4475 §3.4.1 calls it
// valid. The branch hashes what RFC 3261 §17.2.3 matches such requests by
// (Request-URI, From, Call-ID, CSeq number, top Via), so retransmissions,
// the ACK of a non-2xx answer and a CANCEL map to the same transaction.
// Returns "" when the From tag lets sipgo cope. Slow path: it allocates.
func rfc2543Branch(msg []byte) string {
	rec, ok := recoverHeaders(msg)
	if !ok || rec.from == "" {
		return ""
	}
	// Ask sipgo's own parser: it keeps LWS in parameter names, so
	// "; tag = x" (RFC 4475 §3.1.1.1) is no tag to it.
	var uri sip.Uri
	params := sip.NewParams()
	if _, err := sip.ParseAddressValue(rec.from, &uri, &params); err != nil || params.Has("tag") {
		return ""
	}
	num, _, _ := strings.Cut(strings.TrimSpace(rec.cseq), " ")
	h := fnv.New64a()
	for _, part := range []string{rec.ruri, rec.from, rec.callID, num, rec.vias[0]} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return fmt.Sprintf(";branch=z9hG4bK-2543-%016x", h.Sum64())
}

// answer recovers the transaction headers of msg leniently and sends a
// stateless response with code. Responses, ACKs (RFC 3261 §17.2.1: an ACK
// is never answered) and messages whose Via or CSeq cannot be recovered are
// dropped.
func (f *readFilter) answer(info sip.TransportReadProps, msg []byte, code int, detail string, noAnswer bool) {
	rec, ok := recoverHeaders(msg)
	if noAnswer || !ok || strings.EqualFold(rec.method, "ACK") {
		f.dropped.Add(1)
		f.log.Debug("malformed message dropped", "transport", info.Transport, "raddr", addrString(info.RemoteAddr), "reason", detail)
		return
	}
	res := f.buildAnswer(info, rec, code, detail)
	if err := f.write(info, res); err != nil {
		f.dropped.Add(1)
		f.log.Debug("answer to malformed request failed", "raddr", addrString(info.RemoteAddr), "code", code, "error", err)
		return
	}
	f.answered.Add(1)
	f.log.Debug("malformed request answered", "transport", info.Transport, "raddr", addrString(info.RemoteAddr),
		"method", rec.method, "code", code, "reason", detail)
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// buildAnswer echoes the recovered headers, as RFC 3261 §8.2.6.2 wants
// them (Via, From, To with a tag, Call-ID, CSeq), with a Warning (§20.43,
// code 399) saying what was wrong. A header that is itself the malformed
// part is repaired or left out (see echoable).
func (f *readFilter) buildAnswer(info sip.TransportReadProps, rec recovered, code int, detail string) *sip.Response {
	res := sip.NewResponse(code, reasonPhrase(code))
	for _, v := range rec.vias {
		if v = echoable("Via", v); v != "" {
			res.AppendHeader(sip.NewHeader("Via", v))
		}
	}
	if from := echoable("From", rec.from); from != "" {
		res.AppendHeader(sip.NewHeader("From", from))
	}
	if to := echoable("To", rec.to); to != "" {
		if !hasTagParam(to) {
			to += ";tag=" + newTag()
		}
		res.AppendHeader(sip.NewHeader("To", to))
	}
	if cid := echoable("Call-ID", rec.callID); cid != "" {
		res.AppendHeader(sip.NewHeader("Call-ID", cid))
	}
	if cseq := echoable("CSeq", rec.cseq); cseq != "" {
		res.AppendHeader(sip.NewHeader("CSeq", cseq))
	}
	res.AppendHeader(sip.NewHeader("Server", f.s.userAgent))
	if detail != "" {
		agent := "switchboard"
		if ap := addrPortOf(info.LocalAddr); ap.IsValid() {
			agent = ap.String()
		}
		res.AppendHeader(sip.NewHeader("Warning", `399 `+agent+` "`+sanitizeWarning(detail)+`"`))
	}
	res.AppendHeader(sip.NewHeader("Content-Length", "0"))
	return res
}

// echoable returns a header value an answer can carry: the value as
// received when sipgo's parser takes it, else a repair (a Via's first
// value; the <addr-spec> and parameters of a From or To), else "" to leave
// it out. A response its sender cannot parse is no answer at all: RFC 4475
// §3.1.2.6's To, §3.1.2.4's CSeq and §3.1.2.1's Via would make it one.
func echoable(name, value string) string {
	if value == "" || headerParses(name, value) {
		return value
	}
	var cand []string
	switch name {
	case "Via":
		if i := strings.IndexByte(value, ','); i > 0 {
			cand = append(cand, strings.TrimSpace(value[:i]))
		}
	case "From", "To":
		lt, gt := strings.IndexByte(value, '<'), strings.LastIndexByte(value, '>')
		if lt >= 0 && gt > lt {
			addr := "<" + strings.TrimSpace(value[lt+1:gt]) + ">"
			cand = append(cand, addr+value[gt+1:], addr)
		}
	}
	for _, c := range cand {
		if headerParses(name, c) {
			return c
		}
	}
	return ""
}

// headerParses reports whether sipgo's parser accepts one header.
func headerParses(name, value string) bool {
	if strings.ContainsAny(value, "\r\n") {
		return false
	}
	_, err := sip.ParseMessage([]byte("SIP/2.0 400 Bad Request\r\n" + name + ": " + value + "\r\n\r\n"))
	return err == nil
}

func newTag() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// hasTagParam reports whether a raw To value carries a tag parameter outside
// its <...> part.
func hasTagParam(v string) bool {
	if i := strings.LastIndexByte(v, '>'); i >= 0 {
		v = v[i:]
	}
	lv := strings.ToLower(v)
	for i := strings.IndexByte(lv, ';'); i >= 0; {
		rest := strings.TrimLeft(lv[i+1:], " \t")
		if strings.HasPrefix(rest, "tag") && strings.HasPrefix(strings.TrimLeft(rest[3:], " \t"), "=") {
			return true
		}
		j := strings.IndexByte(lv[i+1:], ';')
		if j < 0 {
			break
		}
		i += j + 1
	}
	return false
}

// sanitizeWarning makes an error text fit a quoted-string (RFC 3261 §25.1).
func sanitizeWarning(s string) string {
	const max = 120
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < max; i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\'')
		case c < 0x20 || c >= 0x7f:
			b.WriteByte('?')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// writeAnswer sends res through sipgo's transport layer: on UDP from the
// listening socket to the packet's source (the Via may be what is broken),
// on a connection over that same connection (RFC 3261 §18.2.2).
func (f *readFilter) writeAnswer(info sip.TransportReadProps, res *sip.Response) error {
	if f.s.ua == nil {
		return errors.New("transport layer not started")
	}
	tl := f.s.ua.TransportLayer()
	if info.Transport == "UDP" {
		c, err := tl.GetConnection("udp", info.LocalAddr.String())
		if err != nil {
			return fmt.Errorf("udp listener %s: %w", info.LocalAddr, err)
		}
		defer func() { _, _ = c.TryClose() }()
		uc, ok := c.(*sip.UDPConnection)
		if !ok {
			return fmt.Errorf("udp listener %s: unexpected connection type %T", info.LocalAddr, c)
		}
		if _, err := uc.WriteTo([]byte(res.String()), info.RemoteAddr); err != nil {
			return fmt.Errorf("udp write to %s: %w", info.RemoteAddr, err)
		}
		return nil
	}
	c, err := tl.GetConnection(info.Transport, info.RemoteAddr.String())
	if err != nil {
		return fmt.Errorf("%s connection %s: %w", info.Transport, info.RemoteAddr, err)
	}
	defer func() { _, _ = c.TryClose() }()
	if err := c.WriteMsg(res); err != nil {
		return fmt.Errorf("%s write to %s: %w", info.Transport, info.RemoteAddr, err)
	}
	return nil
}

// recovered holds the raw values of the headers a stateless answer needs.
type recovered struct {
	method, ruri           string
	vias                   []string
	from, to, callID, cseq string
}

// recoverHeaders reads the header section of a message leniently: any line
// ending, folded lines, compact names, no empty line at the end. It needs a
// request with at least one Via and a CSeq. It is the slow path and may
// allocate.
func recoverHeaders(msg []byte) (recovered, bool) {
	var rec recovered
	if end := bytes.Index(msg, []byte("\r\n\r\n")); end >= 0 {
		msg = msg[:end]
	}
	lines := strings.Split(strings.ReplaceAll(string(msg), "\r\n", "\n"), "\n")
	start := strings.TrimSpace(lines[0])
	if len(start) >= 4 && strings.EqualFold(start[:4], "SIP/") {
		return rec, false // a response is never answered
	}
	method, rest, ok := strings.Cut(start, " ")
	if !ok || method == "" {
		return rec, false
	}
	rec.method = method
	rec.ruri, _, _ = strings.Cut(strings.TrimLeft(rest, " "), " ")

	// Unfold (RFC 3261 §7.3.1) before splitting names from values.
	var hdrs []string
	for _, l := range lines[1:] {
		l = strings.TrimRight(l, "\r")
		if l == "" {
			break
		}
		if (l[0] == ' ' || l[0] == '\t') && len(hdrs) > 0 {
			hdrs[len(hdrs)-1] += " " + strings.TrimSpace(l)
			continue
		}
		hdrs = append(hdrs, l)
	}
	for _, h := range hdrs {
		name, value, ok := strings.Cut(h, ":")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "via", "v":
			if value != "" {
				rec.vias = append(rec.vias, value)
			}
		case "from", "f":
			setOnce(&rec.from, value)
		case "to", "t":
			setOnce(&rec.to, value)
		case "call-id", "i":
			setOnce(&rec.callID, value)
		case "cseq":
			setOnce(&rec.cseq, value)
		}
	}
	return rec, len(rec.vias) > 0 && rec.cseq != ""
}

func setOnce(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}

// startLineLike reports whether b starts like a SIP start line: "SIP/" (a
// status line) or a token followed by a space (a request line, however
// malformed the rest). Anything else is junk that cannot be answered.
func startLineLike(b []byte) bool {
	if len(b) >= 4 && eqFold(b[:4], "sip/") {
		return true
	}
	i := 0
	for i < len(b) && isTokenChar(b[i]) {
		i++
	}
	return i > 0 && i < len(b) && b[i] == ' '
}

// scanKind is the scan's verdict.
type scanKind uint8

const (
	// scanClean: sipgo's parser will accept the message.
	scanClean scanKind = iota
	// scanSuspicious: only a full parse can tell.
	scanSuspicious
	// scanReject: the message is malformed; code says how to answer.
	scanReject
)

// scanResult is what one pass over a start line and header section found.
type scanResult struct {
	kind      scanKind
	code      int
	detail    string
	closeConn bool // framing is lost: a stream must be closed
	response  bool
	ack       bool

	headerEnd int // offset just past the empty line; -1 if not found
	clCount   int
	cl        int

	viaStart  int  // the top Via's value starts here
	viaInsert int  // its first value ends here: additions go here; 0 if no Via
	viaRport  bool // the top Via has rport already
	viaDone   bool // the top Via's first value has ended (at a comma)
	badLines  bool // a bare CR or LF: line framing is uncertain
}

func (r *scanResult) suspect() {
	if r.kind == scanClean {
		r.kind = scanSuspicious
	}
}

// reject records the first definite error; later ones do not override it.
func (r *scanResult) reject(code int, detail string, closeConn bool) {
	if r.kind == scanReject {
		r.closeConn = r.closeConn || closeConn
		return
	}
	r.kind, r.code, r.detail, r.closeConn = scanReject, code, detail, closeConn
}

// header kinds the scan checks; sipgo parses exactly these into typed
// headers (sip.DefaultHeadersParser) and fails the message when they are
// malformed.
type hdrKind uint8

const (
	hGeneric hdrKind = iota
	hVia
	hFrom
	hTo
	hContact
	hCallID
	hCSeq
	hMaxForwards
	hContentLength
	hContentType
	hRoute
	hRecordRoute
	hReferTo
	hReferredBy
)

func headerKindOf(name []byte) hdrKind {
	switch len(name) {
	case 1:
		switch name[0] | 0x20 {
		case 'v':
			return hVia
		case 'f':
			return hFrom
		case 't':
			return hTo
		case 'm':
			return hContact
		case 'i':
			return hCallID
		case 'l':
			return hContentLength
		case 'c':
			return hContentType
		}
	case 2:
		if eqFold(name, "to") {
			return hTo
		}
	case 3:
		if eqFold(name, "via") {
			return hVia
		}
	case 4:
		switch {
		case eqFold(name, "from"):
			return hFrom
		case eqFold(name, "cseq"):
			return hCSeq
		}
	case 5:
		if eqFold(name, "route") {
			return hRoute
		}
	case 7:
		switch {
		case eqFold(name, "contact"):
			return hContact
		case eqFold(name, "call-id"):
			return hCallID
		}
	case 8:
		if eqFold(name, "refer-to") {
			return hReferTo
		}
	case 11:
		if eqFold(name, "referred-by") {
			return hReferredBy
		}
	case 12:
		switch {
		case eqFold(name, "max-forwards"):
			return hMaxForwards
		case eqFold(name, "record-route"):
			return hRecordRoute
		case eqFold(name, "content-type"):
			return hContentType
		}
	case 14:
		if eqFold(name, "content-length") {
			return hContentLength
		}
	}
	return hGeneric
}

// scanMessage checks a start line and header section in one pass without
// allocating. b starts at the start line; the body, if any, is not looked at.
func scanMessage(b []byte) scanResult {
	r := scanResult{headerEnd: -1}
	end, next, st := lineAt(b, 0)
	if st == lineUnterminated {
		r.reject(400, "start line not terminated", false)
		return r
	}
	if st == lineBad {
		r.suspect()
		r.badLines = true
	}
	scanStartLine(b[:end], &r)

	prev := hGeneric
	prevFirstVia := false
	sawVia := false
	off, next0 := next, next
	for {
		end, next, st = lineAt(b, off)
		if st == lineUnterminated {
			return r // headerEnd stays -1
		}
		if st == lineBad {
			r.suspect()
			r.badLines = true
		}
		if end == off {
			r.headerEnd = next
			break
		}
		if b[off] == ' ' || b[off] == '\t' {
			// A folded line (RFC 3261 §7.3.1) continues the previous header.
			if prev != hGeneric || off == next0 {
				r.suspect() // typed, or nothing to continue
			}
			if prev == hContentLength {
				r.reject(400, "folded Content-Length", true)
			}
			if prevFirstVia {
				extendVia(b, off, end, &r)
			}
			off = next
			continue
		}
		prevFirstVia = false
		i := off
		for i < end && isTokenChar(b[i]) {
			i++
		}
		j := i
		for j < end && (b[j] == ' ' || b[j] == '\t') {
			j++
		}
		if i == off || j >= end || b[j] != ':' {
			r.suspect()
			prev = hGeneric
			off = next
			continue
		}
		vs := j + 1
		v := trimWS(b[vs:end])
		prev = headerKindOf(b[off:i])
		switch prev {
		case hVia:
			if !viaOK(v) {
				r.suspect()
			}
			if !sawVia {
				sawVia = true
				prevFirstVia = true
				r.viaStart = vs
				extendVia(b, vs, end, &r)
			}
		case hFrom, hTo, hReferredBy:
			if !addrOK(v, false) {
				r.suspect()
			}
		case hContact, hRoute, hRecordRoute, hReferTo:
			if !addrListOK(v) {
				r.suspect()
			}
		case hCallID, hContentType:
			if len(v) == 0 {
				r.suspect()
			}
		case hCSeq:
			if !cseqOK(v) {
				r.suspect()
			}
		case hMaxForwards:
			if _, ok := parseUint32(v); !ok {
				r.suspect()
			}
		case hContentLength:
			r.clCount++
			n, ok := parseUint32(v)
			switch {
			case !ok:
				r.reject(400, "invalid Content-Length", true)
			case r.clCount > 1:
				r.reject(400, "more than one Content-Length", true)
			default:
				r.cl = int(n)
			}
		}
		off = next
	}
	return r
}

// extendVia takes the top Via's value, or a continuation line of it, from
// b[from:to] and moves the ";rport" insertion point to the end of its first
// value (before a comma), noting an rport parameter already there.
func extendVia(b []byte, from, to int, r *scanResult) {
	if r.viaDone {
		return
	}
	seg := b[from:to]
	if c := bytes.IndexByte(seg, ','); c >= 0 {
		seg = seg[:c]
		r.viaDone = true
	}
	if hasRport(seg) {
		r.viaRport = true
	}

	if t := trimWSRight(seg); len(t) > 0 {
		r.viaInsert = from + len(t)
	}
}

// hasRport reports whether a Via segment has an rport parameter.
func hasRport(seg []byte) bool {
	for i := 0; i+5 <= len(seg); i++ {
		if !eqFold(seg[i:i+5], "rport") {
			continue
		}
		k := i - 1
		for k >= 0 && (seg[k] == ' ' || seg[k] == '\t') {
			k--
		}
		if k < 0 || seg[k] != ';' {
			continue
		}
		e := i + 5
		if e == len(seg) || seg[e] == '=' || seg[e] == ';' || seg[e] == ' ' || seg[e] == '\t' {
			return true
		}
	}
	return false
}

// scanStartLine checks a request or status line.
func scanStartLine(line []byte, r *scanResult) {
	if len(line) >= 4 && eqFold(line[:4], "sip/") {
		r.response = true
		if string(line[:4]) != "SIP/" {
			r.suspect()
		}
		// sipgo: "SIP-Version SP Status-Code SP Reason" with a 16-bit code.
		sp := bytes.IndexByte(line, ' ')
		if sp < 0 {
			r.suspect()
			return
		}
		rest := line[sp+1:]
		sp2 := bytes.IndexByte(rest, ' ')
		if sp2 < 0 {
			r.suspect()
			return
		}
		if n, ok := parseUint32(rest[:sp2]); !ok || n > 65535 {
			r.suspect()
		}
		// sipgo tries a request first: a one-word reason starting "sip"
		// makes it one.
		if reason := rest[sp2+1:]; len(reason) >= 3 && bytes.IndexByte(reason, ' ') < 0 &&
			(string(reason[:3]) == "sip" || string(reason[:3]) == "SIP") {
			r.suspect()
		}
		return
	}

	// RFC 3261 §7.1, §25.1: Method SP Request-URI SP SIP-Version.
	i := 0
	for i < len(line) && isTokenChar(line[i]) {
		i++
	}
	if i == 0 || i >= len(line) || line[i] != ' ' {
		r.reject(400, "malformed Request-Line", false)
		return
	}
	r.ack = eqFold(line[:i], "ack")
	uriStart := i + 1
	j := uriStart
	for j < len(line) && line[j] > ' ' && line[j] != '<' && line[j] != '>' && line[j] != '"' && line[j] < 0x7f {
		j++
	}
	if j == uriStart || j >= len(line) || line[j] != ' ' {
		r.reject(400, "malformed Request-Line", false)
		return
	}
	uri := line[uriStart:j]
	version := line[j+1:]
	switch {
	case string(version) == "SIP/2.0":
	case eqFold(version, "sip/2.0"):
		r.suspect() // sipgo takes "SIP" or "sip" only
	case isSIPVersion(version):
		// RFC 3261 §21.5.7: 505 Version Not Supported.
		r.reject(505, "SIP version not supported", false)
		return
	default:
		r.reject(400, "malformed Request-Line", false)
		return
	}
	colon := bytes.IndexByte(uri, ':')
	if colon <= 0 || !isScheme(uri[:colon]) {
		r.reject(400, "malformed Request-URI", false)
		return
	}
	if !supportedScheme(uri[:colon]) {
		// RFC 3261 §8.2.2.1: 416 Unsupported URI Scheme.
		r.reject(416, "Request-URI scheme not supported", false)
		return
	}
	if !uriOK(uri, false) {
		r.suspect()
	}
}

// supportedScheme is the set of Request-URI schemes Switchboard serves
// (validate.go applies the same set to a parsed request).
func supportedScheme[T ~string | ~[]byte](s T) bool {
	return eqFold(s, "sip") || eqFold(s, "sips")
}

// isSIPVersion matches "SIP/" 1*DIGIT "." 1*DIGIT (RFC 3261 §25.1).
func isSIPVersion(v []byte) bool {
	if len(v) < 7 || !eqFold(v[:4], "sip/") {
		return false
	}
	v = v[4:]
	dot := bytes.IndexByte(v, '.')
	return dot > 0 && allDigits(v[:dot]) && dot+1 < len(v) && allDigits(v[dot+1:])
}

// isScheme matches RFC 3986's scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
func isScheme(s []byte) bool {
	if len(s) == 0 || !isAlpha(s[0]) {
		return false
	}
	for _, c := range s[1:] {
		if !isAlpha(c) && !isDigit(c) && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

// The checks below mirror where sipgo's parser (parse_uri.go,
// parse_address.go, parse_via.go, parse_header.go) returns an error, on the
// conservative side: true means sipgo accepts the value. Hand-written
// because sipgo's parsers allocate and the scan must not.

// uriOK mirrors sip.ParseUri; wildcard allows a bare "*".
func uriOK(s []byte, wildcard bool) bool {
	if len(s) == 0 {
		return false
	}
	if len(s) < 3 {
		return wildcard && len(s) == 1 && s[0] == '*'
	}
	for i, c := range s {
		if c == ':' {
			if i == 0 {
				return false
			}
			if eqFold(s[:i], "sip") || eqFold(s[:i], "sips") {
				return sipURIOK(s[i+1:])
			}
			return true // other schemes stay opaque to sipgo
		}
		if !isAlpha(c) { // sipgo accepts letters only in a scheme
			return false
		}
	}
	return false
}

// sipURIOK mirrors sipgo's SIP URI states after "sip:".
func sipURIOK(s []byte) bool {
	if len(s) >= 2 && s[0] == '/' && s[1] == '/' {
		s = s[2:]
	}
	for i, c := range s {
		if c == '[' {
			return ipv6HostOK(s[i:])
		}
		if c == '@' {
			return hostOK(s[i+1:])
		}
	}
	return hostOK(s)
}

func hostOK(s []byte) bool {
	for i, c := range s {
		switch c {
		case '[':
			return ipv6HostOK(s[i:])
		case ':':
			return portOK(s[i+1:])
		case ';', '?':
			return i > 0 && !(i == 1 && s[0] == '*')
		}
	}
	return len(s) > 0 && !(len(s) == 1 && s[0] == '*')
}

func ipv6HostOK(s []byte) bool {
	ind := bytes.IndexByte(s[:min(len(s), 42)], ']')
	if ind <= 0 {
		return false
	}
	rest := s[ind+1:]
	if len(rest) > 0 && rest[0] == ':' {
		return portOK(rest[1:])
	}
	return true
}

func portOK(s []byte) bool {
	end := len(s)
	if i := bytes.IndexAny(s, ";?"); i >= 0 {
		end = i
	}
	return end > 0 && end <= 9 && allDigits(s[:end])
}

// addrOK mirrors sip.ParseAddressValue for From, To and Referred-By
// (wildcard false) and for one element of a list (wildcard true).
func addrOK(s []byte, wildcard bool) bool {
	if len(s) == 0 {
		return false
	}
	for i, c := range s {
		switch c {
		case '"':
			return quotedAddrOK(s[i+1:], wildcard)
		case '<':
			return bracketAddrOK(s[i+1:], wildcard)
		case ';':
			return plainAddrOK(s, wildcard)
		}
	}
	return plainAddrOK(s, wildcard)
}

func plainAddrOK(s []byte, wildcard bool) bool {
	if i := bytes.IndexByte(s, ';'); i >= 0 {
		s = s[:i]
	}
	return uriOK(s, wildcard)
}

func bracketAddrOK(s []byte, wildcard bool) bool {
	i := bytes.IndexByte(s, '>')
	return i > 0 && uriOK(s[:i], wildcard)
}

func quotedAddrOK(s []byte, wildcard bool) bool {
	escaped := false
	for i, c := range s {
		if c == '\\' {
			escaped = !escaped
			continue
		}
		if escaped {
			if c == '\n' || c == '\r' {
				return false
			}
			escaped = false
			continue
		}
		if c == '"' {
			rest := s[i+1:]
			for k, c2 := range rest {
				if c2 == '<' {
					return bracketAddrOK(rest[k+1:], wildcard)
				}
				if c2 == ';' {
					return false // sipgo would parse the parameters as a URI
				}
			}
			return false
		}
	}
	return false
}

// addrListOK checks a comma-separated address list (Contact, Route,
// Record-Route, Refer-To) element by element, as sipgo splits it.
func addrListOK(s []byte) bool {
	if len(s) == 1 && s[0] == '*' {
		return true // Contact: *
	}
	inQuotes, inBrackets, start := false, false, 0
	for i, c := range s {
		switch {
		case c == '"':
			inQuotes = !inQuotes
		case c == '<' && !inQuotes:
			inBrackets = true
		case c == '>' && !inQuotes:
			inBrackets = false
		case c == ',' && !inQuotes && !inBrackets:
			if !addrOK(s[start:i], true) {
				return false
			}
			start = i + 1
		}
	}
	if inQuotes || inBrackets {
		return false
	}
	return addrOK(s[start:], true)
}

// viaOK mirrors sipgo's Via parser: "name/version/transport" LWS host...
func viaOK(v []byte) bool {
	if bytes.IndexByte(v, ',') >= 0 {
		return false // several values: let the full parser decide
	}
	p1 := bytes.IndexByte(v, '/')
	if p1 < 0 {
		return false
	}
	p2 := bytes.IndexByte(v[p1+1:], '/')
	if p2 < 0 {
		return false
	}
	rest := v[p1+1+p2+1:]
	ws := bytes.IndexAny(rest, " \t")
	if ws < 0 {
		return false
	}
	host := rest[ws+1:]
	if len(host) > 0 && host[0] == '[' && bytes.IndexByte(host, ']') < 0 {
		return false
	}
	return true
}

// cseqOK mirrors sipgo's CSeq parser: digits (at most 2^31-1), whitespace,
// a method.
func cseqOK(v []byte) bool {
	ind := bytes.IndexAny(v, " \t")
	if ind < 1 || len(v)-ind < 2 {
		return false
	}
	n, ok := parseUint32(v[:ind])
	return ok && n <= 1<<31-1
}

// parseUint32 parses 1 to 10 decimal digits into a uint32.
func parseUint32(v []byte) (uint32, bool) {
	if len(v) == 0 || len(v) > 10 {
		return 0, false
	}
	var n uint64
	for _, c := range v {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if n > 1<<32-1 {
		return 0, false
	}
	return uint32(n), true
}

type lineStatus uint8

const (
	lineOK lineStatus = iota
	lineBad
	lineUnterminated
)

// lineAt finds the line starting at off: end is the index of its CR (or of
// a bare LF), next the start of the following line. A lone CR or LF inside
// the line makes it lineBad.
func lineAt(b []byte, off int) (end, next int, st lineStatus) {
	nl := bytes.IndexByte(b[off:], '\n')
	if nl < 0 {
		return len(b), len(b), lineUnterminated
	}
	nl += off
	if nl == off || b[nl-1] != '\r' {
		return nl, nl + 1, lineBad
	}
	if bytes.IndexByte(b[off:nl-1], '\r') >= 0 {
		return nl - 1, nl + 1, lineBad
	}
	return nl - 1, nl + 1, lineOK
}

func trimWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	return trimWSRight(b)
}

func trimWSRight(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\r' || b[len(b)-1] == '\n') {
		b = b[:len(b)-1]
	}
	return b
}

// eqFold compares b with lower-case ASCII s, ignoring case.
func eqFold[T ~string | ~[]byte](b T, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func allDigits(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !isDigit(c) {
			return false
		}
	}
	return true
}

// isTokenChar reports RFC 3261 §25.1 token characters:
// alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~".
func isTokenChar(c byte) bool {
	if isAlpha(c) || isDigit(c) {
		return true
	}
	switch c {
	case '-', '.', '!', '%', '*', '_', '+', '`', '\'', '~':
		return true
	}
	return false
}
