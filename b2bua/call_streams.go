package b2bua

import (
	"strings"
	"time"

	"github.com/switchboard/switchboard/cdr"
	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/media"
)

// The streams of a call beside its audio (issue 17). Every m-line of an
// offer is a stream of the call, at the same index on both legs, so the
// two legs' SDP keep one layout (RFC 3264 §6: an answer has the offer's
// m-lines in order; §8: a new offer keeps them):
//
//	offer (from leg) ── audio ──────────────► call_offer.go, as before
//	                 ├─ video, policy relay ─► videoStream: an endpoint pair
//	                 │    offered to the far leg at our port,  + media.Bridge
//	                 │    answered from the far leg's answer    (relay, no decode)
//	                 └─ anything else, or video refused by policy, by the far
//	                      leg or with no shared codec ─► port 0 on both legs
//
// The sections beside audio are handed to each leg's media.Session
// (SetStreams), which writes them with the audio m-line in every Build.

// callStreams is what a call carries beside its audio m-line.
type callStreams struct {
	dropVideo bool         // the route, the caller or the callee says video: drop
	video     *videoStream // nil until a video m-line is relayed
	fax       *faxStream   // nil until a T.38 re-INVITE (call_fax.go)
	faxG711   bool         // a T.38 re-INVITE was refused: the fax went on in G.711
}

// videoStream is one relayed video m-line: an endpoint facing each leg
// and a relay bridge between them.
type videoStream struct {
	index  int
	a, b   *media.Endpoint // facing the caller's and the callee's leg
	bridge mediaBridge
	// started tells that the bridge relays; live that the last
	// offer/answer kept the stream.
	started, live bool
	// offer is the m-line as its offerer wrote it, offered what was
	// offered to the far leg (the offerer's payload types), fromA that
	// the caller's leg offered.
	offer   media.Stream
	offered []media.Codec
	fromA   bool
	// codecA and codecB are the first codec each leg negotiated.
	codecA, codecB string
}

// streamPolicies takes the call's video policy from its route, its
// caller and its callee: video is dropped when any of them says drop.
func (c *Call) streamPolicies(pol *policy) {
	drop := c.target.Streams.Drops()
	who := []string{c.caller}
	switch c.target.Kind {
	case TargetTrunk:
		who = append(who, "trunk:"+c.target.Trunk.Name)
	case TargetUser:
		who = append(who, c.target.Number)
	}
	for _, id := range who {
		if name, ok := strings.CutPrefix(id, "trunk:"); ok {
			for i := range pol.cfg.Trunks {
				if pol.cfg.Trunks[i].Name == name {
					drop = drop || pol.cfg.Trunks[i].Streams.Drops()
				}
			}
		} else if u, ok := pol.users[id]; ok {
			drop = drop || u.Streams.Drops()
		}
	}
	c.streams.dropVideo = drop
}

// refuseStreams answers every m-line of offer beside its audio with port
// 0 in session: what a call that Switchboard answers itself (a service, a
// room) gives the offerer, and what offerStreams starts from.
func refuseStreams(offer *media.Description, session *media.Session) {
	var secs []media.Section
	for _, s := range offer.Streams {
		if s.Index != offer.Index {
			secs = append(secs, media.RejectSection(s))
		}
	}
	session.SetStreams(secs)
}

// offerStreams lays out, for an offer from one leg (fromA: the caller's),
// the m-lines beside audio on both legs: the offer's to the far leg
// (a relayed video at our port, every other one refused) and, until the
// far leg answers, refusals in the answer to the offerer.
func (c *Call) offerStreams(offer *media.Description, from, to *media.Session, fromA bool) {
	if offer == nil {
		return
	}
	c.stopFax() // back to audio (call_fax.go)
	var fromSecs, toSecs []media.Section
	keptVideo := false
	for _, s := range offer.Streams {
		if s.Index == offer.Index {
			continue
		}
		r := media.RejectSection(s)
		fromSecs = append(fromSecs, r)
		if sec, ok := c.offerVideo(s, fromA); ok {
			toSecs = append(toSecs, sec)
			keptVideo = true
			continue
		}
		toSecs = append(toSecs, r)
	}
	if v := c.streams.video; v != nil && !keptVideo {
		v.live = false // refused or removed by this offer (RFC 3264 §8.2)
	}
	from.SetStreams(fromSecs)
	to.SetStreams(toSecs)
}

// offerVideo prepares the relay of video m-line s, offered by one leg,
// and returns the section that offers it to the other: the offerer's
// codecs at our far endpoint's port. It refuses (false) what is not an
// active plain RTP video line with a codec, video the policy drops, a
// second video line, and video on a call where a leg requires SRTP
// (video is relayed in plain RTP only: it must not leave such a call
// unencrypted).
func (c *Call) offerVideo(s media.Stream, fromA bool) (media.Section, bool) {
	if s.Media != "video" || s.Port == 0 || (s.Proto != "RTP/AVP" && s.Proto != "RTP/AVPF") || c.streams.dropVideo || !s.Addr.IsValid() ||
		c.srtp.a.policy.Mode == config.SRTPRequired || c.srtp.b.policy.Mode == config.SRTPRequired {
		return media.Section{}, false
	}
	codecs := s.StreamCodecs()
	if len(codecs) == 0 {
		return media.Section{}, false
	}
	v := c.streams.video
	if v != nil && v.index != s.Index {
		return media.Section{}, false
	}
	if v == nil {
		epA, err := c.media.NewEndpoint(c.log.With("leg", "a", "stream", "video"))
		if err != nil {
			return media.Section{}, false
		}
		epB, err := c.media.NewEndpoint(c.log.With("leg", "b", "stream", "video"))
		if err != nil {
			_ = epA.Close()
			return media.Section{}, false
		}
		v = &videoStream{index: s.Index, a: epA, b: epB, bridge: c.media.NewBridge(epA, epB, c.log.With("stream", "video"))}
		c.streams.video = v
	}
	v.offer, v.offered, v.fromA = s, codecs, fromA
	near, far := v.ends(fromA)
	near.SetRemote(s.RTP())
	return media.RTPSection(s.Index, "video", int(far.Local().Port()), s.Proto, codecs, s.Feedback, s.Direction()), true
}

// ends returns the stream's endpoints facing the offerer and the other leg.
func (v *videoStream) ends(fromA bool) (near, far *media.Endpoint) {
	if fromA {
		return v.a, v.b
	}
	return v.b, v.a
}

// answerStreams takes the far leg's answer to offerStreams's offer: a
// video line it accepted with a codec that was offered is relayed and
// answered to the offerer at our port with the matched codecs (the
// offerer's payload types); anything else stays refused (port 0) in the
// answer to the offerer (from, its session).
func (c *Call) answerStreams(ans *media.Description, from *media.Session) {
	v := c.streams.video
	if v == nil || ans == nil {
		return
	}
	v.live = false
	if v.index >= len(ans.Streams) {
		return
	}
	as := ans.Streams[v.index]
	if as.Media != "video" || as.Port == 0 || !as.Addr.IsValid() {
		return
	}
	fwd, back, forFrom := media.MatchAnswer(v.offered, as.StreamCodecs())
	if len(forFrom) == 0 {
		return // no shared video codec: refused on this leg (port 0)
	}
	near, far := v.ends(v.fromA)
	far.SetRemote(as.RTP())
	v.bridge.SetPayloadMap(near, fwd)
	v.bridge.SetPayloadMap(far, back)
	near.SetRTCP(media.RTCPOptions{Remote: v.offer.RTCPAddr(), Codec: forFrom[0].Name, ClockRate: uint32(forFrom[0].Clock)})
	far.SetRTCP(media.RTCPOptions{Remote: as.RTCPAddr(), Codec: forFrom[0].Name, ClockRate: uint32(forFrom[0].Clock)})
	if !v.started {
		if fb, ok := v.bridge.(interface{ RelayFeedback() }); ok {
			fb.RelayFeedback() // PLI, FIR, NACK toward the sender (media/feedback.go)
		}
		v.bridge.Start(nil) // the call's audio watches for dead peers
		v.started = true
	}
	v.live = true
	v.codecA, v.codecB = forFrom[0].Name, forFrom[0].Name
	secs := from.Streams()
	for i := range secs {
		if secs[i].Index == v.index {
			secs[i] = media.RTPSection(v.index, "video", int(near.Local().Port()), v.offer.Proto, forFrom,
				v.offer.Feedback, answerDirection(v.offer.Direction(), as.Direction()))
		}
	}
	from.SetStreams(secs)
}

// stopStreams stops the relays of the call's streams (the call ended).
func (c *Call) stopStreams() {
	if v := c.streams.video; v != nil && v.started {
		v.bridge.Stop()
	}
	c.stopFax()
}

// closeStreams releases the streams' endpoints (cleanup).
func (c *Call) closeStreams() {
	if v := c.streams.video; v != nil {
		_ = v.a.Close()
		_ = v.b.Close()
	}
	if f := c.streams.fax; f != nil {
		_ = f.a.Close()
		_ = f.b.Close()
	}
}

// liveStreams is recordStreams for a call in progress (the API).
func (c *Call) liveStreams() []cdr.StreamRecord {
	r := cdr.Record{Start: c.rec.Start, End: time.Now()}
	c.recordStreams(&r)
	return r.Streams
}

// recordStreams writes the streams beside audio into the call's record:
// per video stream its codec, the packets and bytes each way, the bit
// rate over the call and the RTCP quality of each leg (loss, jitter).
func (c *Call) recordStreams(r *cdr.Record) {
	c.recordFax(r) // call_fax.go
	v := c.streams.video
	if v == nil {
		return
	}
	sa, sb := v.a.Stats(), v.b.Stats()
	s := cdr.StreamRecord{
		Index: v.index, Media: "video", Mode: "refused",
		CodecA: v.codecA, CodecB: v.codecB,
		AToBPackets: sa.PacketsIn, AToBBytes: sa.BytesIn,
		BToAPackets: sb.PacketsIn, BToABytes: sb.BytesIn,
	}
	if v.started {
		s.Mode = "relayed"
		q := media.CallQuality(v.a, v.b)
		for i := range q.Legs {
			// The E-model (G.107) rates voice: a video stream has loss,
			// jitter and packets, no MOS.
			l := &q.Legs[i]
			l.Received.RFactor, l.Received.MOS, l.Received.MOSLQ, l.PtimeMs = 0, 0, 0, 0
		}
		s.Quality = &q
		if fb, ok := v.bridge.(interface{ FeedbackRelayed() (uint64, uint64) }); ok {
			s.FeedbackToA, s.FeedbackToB = fb.FeedbackRelayed()
		}
	}
	if d := r.End.Sub(r.Start).Seconds(); d > 0 {
		s.AToBKbps = float64(sa.BytesIn) * 8 / 1000 / d
		s.BToAKbps = float64(sb.BytesIn) * 8 / 1000 / d
	}
	r.Streams = append(r.Streams, s)
}
