package b2bua

import (
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/switchboard/switchboard/b2bua/cause"
	"github.com/switchboard/switchboard/cdr"
	"github.com/switchboard/switchboard/media"
)

// A call's media plan. Offer/answer (call_offer.go) decides which codecs
// each leg uses; this file turns that into the bridge's configuration:
//
//	caller's offer ─FilterCodecs─► aOffer ─TranscodeOffer─► offer to the callee
//	callee's answer ──► B's codec in aOffer?  yes: both legs use it (relay)
//	                                          no:  A keeps its own first codec
//	                                               (TranscodeAnswer): transcode
//	both legs' formats ──► Bridge.Configure (relay or processing per direction)
//	                   ──► Endpoint.SetRTCP on each leg (RTCP terminated here)

// errNoCommonCodec is an answer that gives the caller nothing it offered
// on a route that does not transcode.
var errNoCommonCodec = errors.New("answer has no offered codec")

// farOffer is the codec list offered to the other leg for an offerer's
// filtered offer: the offerer's codecs, then, where the route transcodes,
// Switchboard's own that it lacks, and telephone-event (media.WithEvents).
// Toward the callee, the target's own codec preference (trunks[].codecs,
// users[].codecs) filters and orders the list when it has one.
func (c *Call) farOffer(aOffer []media.Codec, towardCallee bool) []media.Codec {
	own := c.allowed
	if towardCallee && len(c.calleeCodecs) > 0 {
		own = c.calleeCodecs
		aOffer = preferOrder(media.FilterCodecs(aOffer, append(slices.Clip(own), "CN")), own)
	}
	list := aOffer
	if c.target.Transcode {
		list = media.TranscodeOffer(aOffer, defaultCodecs(own), media.CanTranscode)
	}
	return media.WithEvents(list, defaultCodecs(own))
}

// preferOrder reorders codecs by the names in prefs (case-insensitive);
// codecs prefs does not name (CN) keep their order at the end.
func preferOrder(codecs []media.Codec, prefs []string) []media.Codec {
	out := make([]media.Codec, 0, len(codecs))
	for _, p := range prefs {
		for _, c := range codecs {
			if strings.EqualFold(c.Name, p) {
				out = append(out, c)
			}
		}
	}
	for _, c := range codecs {
		if !slices.ContainsFunc(prefs, func(p string) bool { return strings.EqualFold(p, c.Name) }) {
			out = append(out, c)
		}
	}
	return out
}

// offererCodecs returns the codecs for the offering side near of an
// offer/answer given its offer (filtered, its payload types) and forNear,
// the far side's answer renumbered into the offer's payload types
// (media.MatchAnswer): forNear itself when its audio codec is one the
// offerer offered (unless a WebRTC offerer gets Opus, webrtc_leg.go),
// else the offerer's own first transcodable codec.
func (c *Call) offererCodecs(near *Leg, nearOffer, forNear []media.Codec) ([]media.Codec, error) {
	if cs, ok := c.opusForWebRTC(near, nearOffer, forNear); ok {
		return cs, nil
	}
	if a, ok := media.FirstAudio(forNear); ok && offered(nearOffer, a) {
		// Only what the offerer offered: the far side may have answered a
		// telephone-event Switchboard added (media.WithEvents).
		var own []media.Codec
		for _, c := range forNear {
			if offered(nearOffer, c) {
				own = append(own, c)
			}
		}
		return media.WithAuxiliary(own, nearOffer, a.Clock), nil
	}
	if !c.target.Transcode {
		return nil, errNoCommonCodec
	}
	codecs, _, ok := media.TranscodeAnswer(nearOffer, media.CanTranscode)
	if !ok {
		return nil, errNoCommonCodec
	}
	return codecs, nil
}

// offered reports whether x (name, clock, channels and payload type) is
// one of the caller's offered codecs.
func offered(offer []media.Codec, x media.Codec) bool {
	for _, c := range offer {
		if c.PT == x.PT && strings.EqualFold(c.Name, x.Name) && c.Clock == x.Clock {
			return true
		}
	}
	return false
}

// sameAudio reports whether x and y start with the same audio codec.
func sameAudio(x, y []media.Codec) bool {
	a, okA := media.FirstAudio(x)
	b, okB := media.FirstAudio(y)
	return okA && okB && a == b
}

// legFormat is what a leg negotiated, for Bridge.Configure.
func legFormat(codecs []media.Codec, ptimeMs int) media.LegFormat {
	f := media.LegFormat{Ptime: time.Duration(ptimeMs) * time.Millisecond}
	f.Audio, _ = media.FirstAudio(codecs)
	f.TelephoneEvent, _ = media.EventCodec(codecs, f.Audio.Clock)
	if i := slices.IndexFunc(codecs, func(c media.Codec) bool { return strings.EqualFold(c.Name, "CN") }); i >= 0 {
		f.ComfortNoise = codecs[i]
	}
	return f
}

// configureMedia applies the negotiated codecs of the caller's leg a and
// the callee's leg b to the bridge and turns on RTCP termination on each
// endpoint. It runs after every completed offer/answer. aToB and bToA,
// when the legs share codecs, map every codec both negotiated, so that a
// relayed direction carries a peer's switch between them (RFC 3264 §5.1
// lets it send any answered codec).
func (c *Call) configureMedia(a, b *Leg, aToB, bToA media.PayloadMap) error {
	if a == nil || b == nil || a.Endpoint == nil || b.Endpoint == nil {
		return nil
	}
	fa, fb := legFormat(a.Codecs, a.Ptime), legFormat(b.Codecs, b.Ptime)
	cfg := media.BridgeConfig{A: fa, B: fb, Process: c.target.Process, OpusComplexity: c.opusComplexity, OnDigit: c.onDigit, Taps: c.record}
	if (fa.TelephoneEvent.Name == "") != (fb.TelephoneEvent.Name == "") {
		// One leg signals DTMF by RFC 4733, the other cannot: media must
		// detect the events one way and generate them the other (call_dtmf.go).
		cfg.Process = true
	}
	if c.recordingByDTMF() && fa.TelephoneEvent.Name == "" && fb.TelephoneEvent.Name == "" {
		// Recording codes keyed as tones: only a processed direction hears
		// them (a relay reads RFC 4733 events itself, media/relay_digits.go).
		cfg.Process = true
	}
	if err := c.bridge.Configure(cfg); err != nil {
		return err
	}
	legs := [2]struct {
		l *Leg
		f *media.LegFormat
		m media.PayloadMap
	}{{a, &fa, aToB}, {b, &fb, bToA}}
	for _, x := range legs {
		l, f := x.l, x.f
		if len(x.m) > 0 && !c.bridge.Processing(l.Endpoint) {
			c.bridge.SetPayloadMap(l.Endpoint, x.m)
		}
		c.captureRTCP(l) // capture_rtcp.go
		l.Endpoint.SetRTCP(media.RTCPOptions{
			Remote:    l.RTCP,
			XR:        l.XR,
			Codec:     f.Audio.Name,
			Ptime:     f.Ptime,
			ClockRate: uint32(max(f.Audio.Clock, 0)),
		})
	}
	c.rec.CodecA, c.rec.CodecB = fa.Audio.Name, fb.Audio.Name
	c.rec.Transcoded = !strings.EqualFold(fa.Audio.Name, fb.Audio.Name) || fa.Audio.Clock != fb.Audio.Clock
	return nil
}

// onMediaTimeout ends the call whose bridge saw no RTP and no RTCP from
// a leg (or both) for media.inactivity_timeout: BYE to both legs with
// Reason Q.850 cause 102 (recovery on timer expiry), and the silent leg
// named in the record.
func (c *Call) onMediaTimeout(reason string) {
	leg := "both"
	switch reason {
	case media.ReasonRTPTimeoutA:
		leg = "a"
	case media.ReasonRTPTimeoutB:
		leg = "b"
	}
	c.rec.SilentLeg = leg
	c.log.Info("media timeout: a leg went silent", "leg", leg, "reason", reason)
	if c.why.hdr == "" {
		c.why = endReason{hdr: cause.Format(cause.Q850(cause.TimerExpiry)), q850: cause.TimerExpiry, side: cdr.HangupSwitchboard}
	}
	c.hangup(nil, cdr.HangupSwitchboard, media.ReasonRTPTimeout)
}
