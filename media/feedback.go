package media

import (
	"net/netip"
	"sync/atomic"

	"github.com/pion/rtcp"
)

// RTCP feedback across a relayed stream (RFC 4585 §6.2.1 NACK, §6.3.1
// PLI; RFC 5104 §4.3.1 FIR and §4.2 TMMBR/TMMBN, feedback_tmmbr.go; REMB,
// draft-alvestrand-rmcat-remb). RTCP is terminated per leg (rtcp.go), so a
// keyframe request or a loss report a receiver sends about the stream
// Switchboard sends it would end here; RelayFeedback re-issues it out of
// the bridge's other endpoint, toward the source of that stream, in that
// leg's terms: our SSRC as sender, the source's own SSRC as media SSRC,
// NACKed sequence numbers taken back through the relay's offset.
//
//	peer B ─PLI/FIR/NACK(ssrc of our stream to B)─► Endpoint b ─hook─┐
//	peer A ◄─PLI/FIR/NACK(ssrc A sends, seq − offset)── Endpoint a ◄─┘
//
// Feedback is rare: it is parsed with pion/rtcp (allocating) on the
// receiving endpoint's reactor goroutine, off the RTP path.

// RelayFeedback installs the feedback relay on both endpoints of the
// bridge (their RTCP hook). Both endpoints need RTCP on (SetRTCP) for
// feedback to be sent.
func (br *Bridge) RelayFeedback() {
	br.fb[0] = &feedbackRelay{d: br.ba, src: br.b} // what a's peer says of the stream b's peer sends
	br.fb[1] = &feedbackRelay{d: br.ab, src: br.a}
	br.a.SetRTCPHandler(br.fb[0].handle)
	br.b.SetRTCPHandler(br.fb[1].handle)
}

// FeedbackRelayed returns how many feedback messages were re-issued out
// of a (toward a's peer, the source of the stream to b) and out of b.
func (br *Bridge) FeedbackRelayed() (outA, outB uint64) {
	if br.fb[0] == nil {
		return 0, 0
	}
	return br.fb[1].sent.Load(), br.fb[0].sent.Load()
}

// feedbackRelay carries the feedback one endpoint receives to the source
// of the stream d sends out of it, through src. Its handle runs on the
// receiving endpoint's reactor goroutine only.
type feedbackRelay struct {
	d      *direction
	src    *Endpoint
	firSeq uint8 // RFC 5104 §4.3.1.1: our FIR command sequence number
	sent   atomic.Uint64
}

func (f *feedbackRelay) handle(pkt []byte, _ netip.AddrPort) {
	d, src := f.d, f.src
	v := d.source.Load()
	if v == 0 {
		return // nothing relayed yet: no source to ask
	}
	ssrc, off := uint32(v>>32), uint16(v)
	ps, err := rtcp.Unmarshal(pkt)
	if err != nil {
		return
	}
	l := src.rtcp.Load()
	if l == nil {
		return
	}
	own := l.sess.SSRC()
	var out []rtcp.Packet
	for _, p := range ps {
		switch p := p.(type) {
		case *rtcp.PictureLossIndication:
			out = append(out, &rtcp.PictureLossIndication{SenderSSRC: own, MediaSSRC: ssrc})
		case *rtcp.FullIntraRequest:
			f.firSeq++
			out = append(out, &rtcp.FullIntraRequest{SenderSSRC: own, MediaSSRC: ssrc,
				FIR: []rtcp.FIREntry{{SSRC: ssrc, SequenceNumber: f.firSeq}}})
		case *rtcp.TransportLayerNack:
			n := &rtcp.TransportLayerNack{SenderSSRC: own, MediaSSRC: ssrc}
			for _, pair := range p.Nacks {
				n.Nacks = append(n.Nacks, rtcp.NackPair{PacketID: pair.PacketID - off, LostPackets: pair.LostPackets})
			}
			out = append(out, n)
		case *rtcp.ReceiverEstimatedMaximumBitrate:
			// The receiver's bandwidth estimate (draft-alvestrand-rmcat-remb)
			// caps the source's encoder, end to end.
			out = append(out, &rtcp.ReceiverEstimatedMaximumBitrate{SenderSSRC: own, Bitrate: p.Bitrate, SSRCs: []uint32{ssrc}})
		case *rtcp.RawPacket:
			if req, ok := f.tmmbr(*p, own, ssrc); ok {
				out = append(out, req)
			}
		}
	}
	if len(out) == 0 {
		return
	}
	buf, err := rtcp.Marshal(out)
	if err != nil {
		return
	}
	if src.sendRTCP(buf) {
		f.sent.Add(uint64(len(out)))
	}
}

// tmmbr handles a TMMBR or TMMBN (feedback_tmmbr.go) from the receiver
// of d's stream. A TMMBR is answered toward that receiver with a TMMBN of
// its own tuples (RFC 5104 §4.2.2: we are the sender it talks to) and
// returned re-issued toward the source (own: our SSRC on the source's
// leg, ssrc: the source's). Anything else ends here (false): a TMMBN is
// the answer to a request we re-issued, which stops with us.
func (f *feedbackRelay) tmmbr(raw []byte, own, ssrc uint32) (rtcp.Packet, bool) {
	t, err := parseTMMB(raw)
	if err != nil || t.format != fmtTMMBR || len(t.entries) == 0 {
		return nil, false
	}
	if l := f.d.to.rtcp.Load(); l != nil {
		set := tmmb{format: fmtTMMBN, sender: l.sess.SSRC()}
		for _, e := range t.entries {
			e.ssrc = t.sender // the tuple's owner (RFC 5104 §4.2.2.1)
			set.entries = append(set.entries, e)
		}
		f.d.to.sendRTCP(set.marshal())
	}
	fwd := tmmb{format: fmtTMMBR, sender: own}
	for _, e := range t.entries {
		e.ssrc = ssrc
		fwd.entries = append(fwd.entries, e)
	}
	req := rtcp.RawPacket(fwd.marshal())
	return &req, true
}

// sendRTCP sends one RTCP compound packet toward the endpoint's peer
// (SRTCP when the leg is keyed), as the report clock does.
func (ep *Endpoint) sendRTCP(pkt []byte) bool {
	l := ep.rtcp.Load()
	if l == nil {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	dst, sock, ok := l.destination()
	if !ok {
		l.noDest.Add(1)
		return false
	}
	out := pkt
	if s := ep.srtp.Load(); s != nil {
		if l.sbuf == nil {
			l.sbuf = make([]byte, srtpMax)
		}
		if out, ok = s.protectRTCP(pkt, l.sbuf); !ok {
			ep.stats.sendErrors.Add(1)
			return false
		}
	}
	if _, err := sock.sendTo(out, dst); err != nil {
		ep.stats.sendErrors.Add(1)
		return false
	}
	l.sent.Add(1)
	return true
}
