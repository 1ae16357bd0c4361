package b2bua

import (
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/cdr"
	"github.com/switchboard/switchboard/media"
)

// T.38 fax (issue 17). Fax machines on a call switch from G.711 to T.38
// by re-INVITE: the new offer has an m=image … udptl t38 line (often the
// only one). Switchboard relays it end to end as a UDPTL stream:
//
//	re-INVITE (image) from leg X ─► faxReinvite: a UDPTL endpoint pair,
//	    the same m-line layout offered to leg Y at our port, with X's T.38
//	    attributes
//	200 (image) from Y ─► faxAnswered: UDPTL relay on (media.DatagramRelay),
//	    audio's inactivity timer paused, X answered with the attributes
//	    negotiated (media.NegotiateT38), the call marked t38-relayed
//	re-INVITE (audio) ─► the audio path as ever (call_offer.go); the relay
//	    stops (offerStreams) and the audio endpoints carry RTP again
//
// A leg that refuses T.38 gets its 488 relayed to the offerer, whose fax
// then goes on as G.711 through the audio path.

// faxStream is the call's UDPTL stream: an endpoint facing each leg.
type faxStream struct {
	a, b  *media.Endpoint
	relay *media.DatagramRelay
	on    bool // relaying now
	used  bool // relayed at some time in the call (the CDR's fax)
	// offer is the image m-line as its offerer wrote it, t38 its
	// attributes, fromA that the caller's leg offered.
	offer media.Stream
	t38   media.T38
	fromA bool
	// gw is the T.38 ↔ G.711 gateway while on (fax_gateway.go);
	// gatewayed that it ran at some time, pages what it carried,
	// audioCodec the G.711 it spoke.
	gw         *faxGatewayed
	gatewayed  bool
	pages      int
	audioCodec string
}

func (f *faxStream) ends(fromA bool) (near, far *media.Endpoint) {
	if fromA {
		return f.a, f.b
	}
	return f.b, f.a
}

// faxImage returns the first active image/udptl m-line of streams.
func faxImage(streams []media.Stream) (media.Stream, bool) {
	for _, s := range streams {
		if s.Media == "image" && s.Port != 0 && strings.EqualFold(s.Proto, "udptl") && s.Addr.IsValid() {
			return s, true
		}
	}
	return media.Stream{}, false
}

// faxReinvite relays a re-INVITE whose offer has an active T.38 line to
// the other leg, and reports whether it took the request.
func (c *Call) faxReinvite(e *evRequest, from, to *Leg) bool {
	streams := media.ParseStreams(e.req.Body())
	img, ok := faxImage(streams)
	if !ok {
		return false
	}
	f := c.streams.fax
	if f == nil {
		epA, err := c.media.NewEndpoint(c.log.With("leg", "a", "stream", "t38"))
		if err != nil {
			c.answer(e, 503, nil)
			return true
		}
		epB, err := c.media.NewEndpoint(c.log.With("leg", "b", "stream", "t38"))
		if err != nil {
			_ = epA.Close()
			c.answer(e, 503, nil)
			return true
		}
		f = &faxStream{a: epA, b: epB, relay: media.NewDatagramRelay(epA, epB)}
		c.streams.fax = f
	}
	undo := keepStreams(keepSession(from), from, to)
	f.offer, f.t38, f.fromA = img, media.ParseT38(img), from == c.a
	near, far := f.ends(f.fromA)
	near.SetRemote(img.RTP())
	var fromSecs, toSecs []media.Section
	for _, s := range streams {
		if s.Index == img.Index {
			toSecs = append(toSecs, media.T38Section(s.Index, int(far.Local().Port()), f.t38))
			fromSecs = append(fromSecs, media.T38Section(s.Index, 0, f.t38))
			continue
		}
		r := media.RejectSection(s) // the audio while the fax is on, and anything else
		fromSecs, toSecs = append(fromSecs, r), append(toSecs, r)
	}
	from.Session.SetStreams(fromSecs)
	to.Session.SetStreams(toSecs)
	from.Session.SetAudioless(true)
	to.Session.SetAudioless(true)
	req := to.newRequest(c.host, sip.INVITE)
	req.AppendHeader(sip.NewHeader("Allow", allowMethods))
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(to.Session.Build(to.Endpoint.Local(), nil, media.SendRecv, 0))
	out := &outTx{method: sip.INVITE, leg: to, req: req, origin: e, undo: undo, fax: true}
	if err := c.send(out); err != nil {
		c.reinviteFailed(out, 500)
		return true
	}
	c.offer = offerRelaying
	c.log.Info("fax: T.38 re-INVITE relayed", "leg", to.Name, "t38_version", f.t38.Version, "max_bit_rate", f.t38.MaxBitRate)
	return true
}

// faxAnswered takes the 2xx to a T.38 re-INVITE (already ACKed): the
// relay starts and the offerer gets the answer; an answer without an
// active image line at the offer's index fails the re-INVITE with 488.
func (c *Call) faxAnswered(out *outTx, res *sip.Response) {
	f := c.streams.fax
	from, to := c.other(out.leg), out.leg
	streams := media.ParseStreams(res.Body())
	i := f.offer.Index
	if i >= len(streams) {
		c.reinviteFailed(out, 488)
		return
	}
	if _, ok := faxImage(streams[i : i+1]); !ok {
		c.reinviteFailed(out, 488)
		return
	}
	as := streams[i]
	near, far := f.ends(f.fromA)
	far.SetRemote(as.RTP())
	neg := media.NegotiateT38(f.t38, media.ParseT38(as))
	secs := from.Session.Streams()
	for k := range secs {
		if secs[k].Index == i {
			secs[k] = media.T38Section(i, int(near.Local().Port()), neg)
		}
	}
	from.Session.SetStreams(secs)
	if !f.on {
		f.relay.Start()
		f.on = true
	}
	f.used = true
	c.bridge.Pause(true) // no RTP on the audio endpoints while the fax is on
	c.log.Info("fax: T.38 relayed", "leg", to.Name, "t38_version", neg.Version, "max_bit_rate", neg.MaxBitRate, "udp_ec", neg.UDPEC)
	r := c.answer(out.origin, 200, from.Session.Build(from.Endpoint.Local(), nil, media.SendRecv, 0))
	c.startRetransmit(r, from, out.origin.req.CSeq().SeqNo)
}

// stopFax ends the UDPTL relay (the call went back to audio, or ended)
// and gives both legs' SDP their audio m-line back.
func (c *Call) stopFax() {
	if f := c.streams.fax; f != nil && f.on {
		f.relay.Stop()
		f.on = false
	}
	c.stopFaxGateway() // fax_gateway.go
	for _, l := range []*Leg{c.a, c.b} {
		if l != nil && l.Session != nil {
			l.Session.SetAudioless(false)
		}
	}
}

// faxRefused notes that the far leg refused a T.38 re-INVITE: the
// offerer gets the refusal and its fax goes on in G.711 through the
// audio path (the CDR's g711-passthrough, unless T.38 was relayed too).
func (c *Call) faxRefused() {
	c.streams.faxG711 = true
	c.log.Info("fax: T.38 refused by the other leg, G.711 passthrough")
}

// keepStreams extends undo (keepSession) with both legs' sections, so a
// failed re-INVITE leaves the layout in force too.
func keepStreams(undo func(), from, to *Leg) func() {
	fs, ts := from.Session.Streams(), to.Session.Streams()
	fa, ta := from.Session.Audioless(), to.Session.Audioless()
	return func() {
		undo()
		from.Session.SetStreams(fs)
		to.Session.SetStreams(ts)
		from.Session.SetAudioless(fa)
		to.Session.SetAudioless(ta)
	}
}

// recordFax writes the fax stream into the record.
func (c *Call) recordFax(r *cdr.Record) {
	f := c.streams.fax
	if c.streams.faxG711 {
		r.Fax = cdr.FaxG711Passthrough
	}
	if c.recordFaxGateway(r) { // fax_gateway.go
		return
	}
	if f == nil || !f.used {
		return
	}
	r.Fax = cdr.FaxT38Relayed
	sa, sb := f.a.Stats(), f.b.Stats()
	r.Streams = append(r.Streams, cdr.StreamRecord{
		Index: f.offer.Index, Media: "image", Mode: cdr.FaxT38Relayed, CodecA: "t38", CodecB: "t38",
		AToBPackets: sa.PacketsIn, AToBBytes: sa.BytesIn, BToAPackets: sb.PacketsIn, BToABytes: sb.BytesIn,
	})
}
