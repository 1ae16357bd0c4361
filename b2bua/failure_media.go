package b2bua

import (
	"time"

	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/media"
)

// Early media before a failure (tones.failures): when the call fails with
// a status that has an announcement or a tone of the plan, the caller
// first gets a 183 with Switchboard's own SDP and hears it, then the
// final response (RFC 3960 §2: early media from the UAS side, here
// Switchboard's). Only where the caller made an offer and no callee's
// early media is bridged.
//
//	onForkFinal: failure code ─► announceFailure
//	   Terminal on leg A's endpoint (service_call.go's codec choice)
//	     source: media.Player (a WAV, once) or media.Cadence (busy, …)
//	   183 + SDP ─► caller; timerFailMedia every 100 ms:
//	     played out (or Duration over) ─► Terminal.Stop → fail(code)
//	   the call ends meanwhile (CANCEL, ring timeout) ─► stopFailureMedia

// failureCheck is how often a failure's early media is checked for its end.
const failureCheck = 100 * time.Millisecond

// failureMedia is a failure's early media playing to the caller.
type failureMedia struct {
	term   mediaTerminal
	done   func() bool // a clip played out; nil for a tone
	until  time.Time
	code   int
	side   string
	reason string
}

// announceFailure starts the early media configured for code and reports
// whether it did; the call then fails with code once it has played.
func (c *Call) announceFailure(code int, side, reason string) bool {
	pol := c.host.currentPolicy()
	fm, ok := pol.cfg.Tones.Failure(code)
	if !ok {
		return false
	}
	var src media.Source
	var done func() bool
	d := fm.Duration
	if fm.File != "" {
		clip, err := c.media.loadClip(fm.File)
		if err != nil {
			c.log.Error("failure announcement", "leg", "a", "file", fm.File, "error", err)
			return false
		}
		p := media.NewPlayer(clip, false)
		src, done = p, p.Done
		if d == 0 {
			d = time.Minute
		}
	} else {
		src = cadenceOf(pol.cfg.Tones.Tone(fm.Tone))
		if d == 0 {
			d = config.DefaultFailureTone
		}
	}
	term, ok := c.playEarly(src)
	if !ok {
		return false
	}
	c.failMedia = &failureMedia{term: term, done: done, until: c.now().Add(d), code: code, side: side, reason: reason}
	c.log.Info("early media before the failure", "leg", "a", "status", code, "file", fm.File, "tone", fm.Tone)
	c.arm(timerFailMedia, failureCheck)
	return true
}

// playEarly answers the caller's offer in a 183 with Switchboard's own
// SDP (the first codec of the offer the processing path speaks) and
// plays src to it on a terminal on leg A's endpoint.
func (c *Call) playEarly(src media.Source) (mediaTerminal, bool) {
	if c.offer == offerLate || c.bridgeState != bridgeIdle || c.state != stateEarly || c.svc != nil || c.a == nil || c.a.Endpoint == nil {
		return nil, false
	}
	codecs, ok := serviceCodecs(c.aOffer)
	if !ok {
		return nil, false
	}
	ep := c.a.Endpoint
	term := c.media.NewTerminal(ep, c.log)
	if err := term.Configure(media.TerminalConfig{Format: legFormat(codecs, c.a.Ptime), Source: src, OpusComplexity: c.opusComplexity}); err != nil {
		c.log.Error("early media", "leg", "a", "error", err)
		return nil, false
	}
	term.Start(func(string) {})
	c.respondA(183, c.a.Session.Build(ep.Local(), codecs, answerDirection(c.a.Direction, media.SendOnly), c.ptime))
	return term, true
}

// onFailureMediaTimer sends the final response once the early media has
// played.
func (c *Call) onFailureMediaTimer() {
	fm := c.failMedia
	if fm == nil || c.state != stateEarly {
		return
	}
	if (fm.done == nil || !fm.done()) && c.now().Before(fm.until) {
		c.arm(timerFailMedia, failureCheck)
		return
	}
	c.stopFailureMedia()
	c.fail(fm.code, fm.side, fm.reason, "")
}

// stopFailureMedia stops the early media, as it ends or the call does.
func (c *Call) stopFailureMedia() {
	if c.failMedia == nil {
		return
	}
	c.failMedia.term.Stop()
	c.failMedia = nil
}

// cadenceOf is the Source of a tone of the plan.
func cadenceOf(s config.ToneSpec) *media.Cadence {
	fs := make([]float64, len(s.Frequencies))
	for i, f := range s.Frequencies {
		fs[i] = float64(f)
	}
	return &media.Cadence{Frequencies: fs, Cadence: s.Cadence}
}
