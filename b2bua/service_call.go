package b2bua

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/switchboard/switchboard/cdr"
	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/media"
)

// A call answered by Switchboard itself: a route to echo, tone, playback
// or conference. It has one leg, whose media ends in a media.Terminal
// (decode → the service's tap; the service's source → encode →
// packetize, on the engine's playout clock):
//
//	INVITE ─► route: TargetService ─► endpoint A + Terminal ─► 200 OK (our answer)
//	           echo:       tap = source = media.Echo
//	           tone:       source = media.Tone
//	           playback:   source = media.Player (once; hang up at its end)
//	           conference: tap = room input, source = room mix (conference.go)
//	re-INVITE ─► answered here (serviceReinvite), terminal reconfigured
//	BYE ─► the usual hangup; one CDR with service (and room) set
//
// The terminal stands in the call's bridge slot (serviceBridge), so the
// state machine's startBridge, Pause and end work unchanged.

// mediaTerminal is what a service call needs of the media engine's
// terminal (media.Terminal).
type mediaTerminal interface {
	Configure(cfg media.TerminalConfig) error
	AddTap(t media.Tap)
	Start(onTimeout func(reason string))
	Pause(p bool)
	Stop()
}

var _ mediaTerminal = (*media.Terminal)(nil)

// NewTerminal implements mediaPath.
func (m *engineMedia) NewTerminal(ep *media.Endpoint, log *slog.Logger) mediaTerminal {
	return media.NewTerminal(ep, log)
}

// service is the media side of a call answered by Switchboard.
type service struct {
	term mediaTerminal
	src  media.Source
	// done, when set, reports that the source has played out (playback).
	done func() bool
}

// serviceBridge puts a service's terminal in the call's bridge slot.
type serviceBridge struct {
	svc *service
	// opus is the Opus complexity, onDigit the call's digit callback.
	opus    int
	onDigit func(*media.Endpoint, media.Digit)
}

func (b *serviceBridge) Configure(cfg media.BridgeConfig) error {
	return b.svc.term.Configure(media.TerminalConfig{Format: cfg.A, Source: b.svc.src, OpusComplexity: b.opus, OnDigit: b.onDigit})
}
func (b *serviceBridge) Processing(*media.Endpoint) bool                 { return true }
func (b *serviceBridge) SetPayloadMap(*media.Endpoint, media.PayloadMap) {}
func (b *serviceBridge) SendDigit(*media.Endpoint, byte, time.Duration) error {
	return media.ErrNotProcessing
}
func (b *serviceBridge) Start(onTimeout func(reason string)) { b.svc.term.Start(onTimeout) }
func (b *serviceBridge) Pause(p bool)                        { b.svc.term.Pause(p) }
func (b *serviceBridge) Stop()                               { b.svc.term.Stop() }

var _ mediaBridge = (*serviceBridge)(nil)

// errLateOfferService: a service answers an offer; it makes none.
var errLateOfferService = errors.New("a service needs an SDP offer in the INVITE")

// startService answers the caller's INVITE with Switchboard's own media
// on the caller's endpoint (call_start.go opened it):
// the first codec of the caller's offer that the processing path speaks
// (with its telephone-event), on a terminal playing the route's service.
func (c *Call) startService() {
	pol := c.host.currentPolicy()
	c.rec.Service = c.target.Service
	if c.offer == offerLate {
		c.fail(488, cdr.HangupSwitchboard, errLateOfferService.Error(), cdr.Failed)
		return
	}
	codecs, ok := serviceCodecs(c.aOffer)
	if !ok {
		c.fail(488, cdr.HangupSwitchboard, "no codec the service speaks", cdr.Failed)
		return
	}
	ep := c.a.Endpoint
	c.a.Codecs = codecs
	svc := &service{term: c.media.NewTerminal(ep, c.log)}
	var tap media.Tap
	switch c.target.Service {
	case config.RouteEcho:
		e := &media.Echo{}
		svc.src, tap = e, e
	case config.RouteTone:
		hz := c.target.Options.ToneHz
		if hz == 0 {
			hz = pol.cfg.Services.ToneHz
		}
		svc.src = &media.Tone{Frequency: float64(hz)}
	case config.RoutePlayback:
		clip, err := media.LoadClip(c.target.Options.File)
		if err != nil {
			c.log.Error("playback file", "leg", "a", "error", err)
			c.fail(500, cdr.HangupSwitchboard, "playback file unreadable", cdr.Failed)
			return
		}
		p := media.NewPlayer(clip, false)
		svc.src, svc.done = p, p.Done
	case config.RouteConference:
		if !c.joinConference(svc) {
			return
		}
	default:
		c.fail(500, cdr.HangupSwitchboard, fmt.Sprintf("unknown service %q", c.target.Service), cdr.Failed)
		return
	}
	c.svc = svc
	br := &serviceBridge{svc: svc, opus: c.opusComplexity, onDigit: c.onDigit}
	c.bridge = br
	f := legFormat(codecs, c.a.Ptime)
	if err := br.Configure(media.BridgeConfig{A: f}); err != nil {
		c.log.Error("service media", "leg", "a", "error", err)
		c.fail(488, cdr.HangupSwitchboard, "service media: "+err.Error(), cdr.Failed)
		return
	}
	if tap != nil {
		svc.term.AddTap(tap)
	}
	ep.SetRTCP(media.RTCPOptions{Remote: c.a.RTCP, XR: c.a.XR, Codec: f.Audio.Name, Ptime: f.Ptime, ClockRate: uint32(max(f.Audio.Clock, 0))})
	c.rec.CodecA = f.Audio.Name
	c.startBridge()
	c.bridge.Pause(isHold(c.a.Direction))
	c.offer = offerStable
	c.answered()
	c.respondA(200, c.a.Session.Build(ep.Local(), codecs, answerDirection(c.a.Direction, media.SendRecv), c.ptime))
	c.log.Info("answered by service", "leg", "a", "service", c.target.Service, "codec_a", f.Audio.Name)
	if svc.done != nil {
		c.arm(timerService, serviceCheck)
	}
}

// serviceCheck is how often a playback is checked for its end.
const serviceCheck = 200 * time.Millisecond

// onServiceTimer hangs up a playback that has played out.
func (c *Call) onServiceTimer() {
	if c.svc == nil || c.svc.done == nil || !c.state.up() {
		return
	}
	if !c.svc.done() {
		c.arm(timerService, serviceCheck)
		return
	}
	c.log.Info("playback finished", "leg", "a")
	c.hangup(nil, cdr.HangupSwitchboard, "playback finished")
}

// serviceCodecs picks the codec a service answers with: the first audio
// codec of the caller's (filtered) offer that the processing path can
// decode and encode, with the offer's telephone-event at its clock.
func serviceCodecs(offer []media.Codec) ([]media.Codec, bool) {
	for _, c := range offer {
		if c.Name == "" || !media.CanTranscode(c) {
			continue
		}
		return media.WithAuxiliary([]media.Codec{c}, offer, c.Clock), true
	}
	return nil, false
}

// serviceReinvite answers a re-INVITE on a service call here: a new
// offer reconfigures the terminal (codec, address, hold), an offerless
// one gets the session in force.
func (c *Call) serviceReinvite(e *evRequest, from *Leg) {
	if !c.state.up() || c.offer != offerStable || c.retrans != nil {
		c.answer(e, 491, nil)
		return
	}
	from.setRemoteTargetFrom(e.req)
	if len(e.req.Body()) > 0 {
		offer, err := media.ParseSDP(e.req.Body())
		if err != nil {
			c.answer(e, 488, nil)
			return
		}
		codecs, ok := serviceCodecs(media.FilterCodecs(offer.Codecs, c.allowed))
		if !ok {
			c.answer(e, 488, nil)
			return
		}
		from.Endpoint.SetRemote(offer.RTP())
		from.Direction = sdpDirection(offer)
		from.Ptime, from.RTCP, from.XR = offer.Ptime, offer.RTCP, offer.RTCPXR
		if err := c.bridge.Configure(media.BridgeConfig{A: legFormat(codecs, from.Ptime)}); err != nil {
			c.answer(e, 488, nil) // the session in force stays (RFC 3261 §14.1)
			return
		}
		from.Codecs = codecs
		c.bridge.Pause(isHold(from.Direction))
	}
	res := c.answer(e, 200, from.Session.Build(from.Endpoint.Local(), from.Codecs, answerDirection(from.Direction, media.SendRecv), c.ptime))
	c.startRetransmit(res, from, e.req.CSeq().SeqNo)
}
