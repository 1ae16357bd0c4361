package media

import (
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/switchboard/switchboard/media/rtp"
)

// Source produces the PCM a Terminal sends: a tone, a file, an echo of
// what was received, a conference room's mix. ReadPCM fills pcm (mono,
// signed 16-bit, rate Hz: one PlayoutInterval) and reports whether there
// is anything to send this tick (false: no packet). It runs on the
// engine's playout goroutine, like a Tap, and must not block.
type Source interface {
	ReadPCM(pcm []int16, rate int) bool
}

// TerminalConfig is what a Terminal needs to speak a leg's media.
type TerminalConfig struct {
	// Format is what the leg negotiated: the codec decoded from it and
	// encoded toward it, its ptime, telephone-event and CN.
	Format LegFormat
	// Source is what the terminal sends; nil sends nothing.
	Source Source
	// OpusComplexity is the Opus encoder complexity (zero: the default).
	OpusComplexity int
	// OnDigit, if set, is called for each DTMF key the leg sends (RFC
	// 4733 events, or in-band tones when it has no telephone-event), on
	// the endpoint's reactor or the playout goroutine; it must not block.
	OnDigit func(from *Endpoint, d Digit)
}

// Terminal is Switchboard as the far end of one leg's media: a built-in
// service (echo, tone, playback), music on hold or a conference room's
// participant. What the leg sends is decoded and handed to the taps
// (AddTap); what the Source produces is encoded and packetized toward the
// leg. Both halves run on the engine's playout clock, one tick at a time:
//
//	Endpoint ─► jitter.Buffer ─► decode/conceal/CN ─► taps (Tap.WritePCM)
//	Endpoint ◄─ outStream ◄─ Packetizer ◄─ encode ◄─ Source.ReadPCM
//
// It reuses a Bridge looped on the one endpoint for what a bridge does
// besides carrying media: the inactivity watch, Pause and the taps.
type Terminal struct {
	br *Bridge
	ep *Endpoint

	mu      sync.Mutex // guards the fields below; before playout.mu
	recv    *processor // decodes what arrives; nil before Configure
	send    *generator // encodes the source; nil when none
	running bool       // on the playout clock
	stopped bool
}

// NewTerminal prepares a terminal on ep. Nothing is sent or decoded
// until Configure and Start.
func NewTerminal(ep *Endpoint, log *slog.Logger) *Terminal {
	br := NewBridge(ep, ep, log)
	br.ba.setHandler(dropHandler{}) // the loop's second direction never runs
	return &Terminal{br: br, ep: ep}
}

// dropHandler discards what it is given.
type dropHandler struct{}

// HandleRTP implements RTPHandler.
func (dropHandler) HandleRTP([]byte, rtp.Header, int64) {}

// Configure applies the leg's negotiated format and the source; it may
// be called again (a re-INVITE, a new source), and the outgoing stream
// continues (same SSRC, sequence +1).
func (t *Terminal) Configure(cfg TerminalConfig) error {
	d := t.br.ab
	bc := BridgeConfig{A: cfg.Format, B: cfg.Format, OpusComplexity: cfg.OpusComplexity, OnDigit: cfg.OnDigit}
	recv, err := newSinkProcessor(d, cfg.Format, &bc)
	if err != nil {
		return fmt.Errorf("media: terminal %s: %w", cfg.Format.Audio.Name, err)
	}
	var send *generator
	if cfg.Source != nil {
		if send, err = newGenerator(t.ep, cfg.Format, cfg.Source, cfg.OpusComplexity); err != nil {
			recv.close()
			return fmt.Errorf("media: terminal %s: %w", cfg.Format.Audio.Name, err)
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		recv.close()
		return fmt.Errorf("media: configure a stopped terminal")
	}
	if t.running {
		t.br.engine.playout.remove(t)
	}
	old, oldSend := t.recv, t.send
	if oldSend != nil && send != nil {
		send.continueFrom(oldSend)
	}
	t.recv, t.send = recv, send
	d.table.Store(newPTTable(acceptMap(&cfg.Format)))
	d.setHandler(recv)
	if t.running {
		t.br.engine.playout.add(t)
	}
	if old != nil {
		old.close()
	}
	return nil
}

// AddTap attaches tap to what the leg sends, decoded.
func (t *Terminal) AddTap(tap Tap) { t.br.AddTap(t.ep, tap) }

// RemoveTap detaches tap.
func (t *Terminal) RemoveTap(tap Tap) { t.br.RemoveTap(t.ep, tap) }

// Start begins decoding and sending. onTimeout (may be nil) is called
// once, from the sweeper goroutine, when the leg sent no RTP or RTCP for
// Config.Inactivity while not paused; it must not block.
func (t *Terminal) Start(onTimeout func(reason string)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.running || t.stopped {
		return
	}
	t.running = true
	t.br.Start(onTimeout)
	t.ep.rx.Store(t.br.ab)
	t.br.engine.playout.add(t)
}

// Pause suspends (true) or resumes the inactivity timer, for a leg on
// hold.
func (t *Terminal) Pause(p bool) { t.br.Pause(p) }

// Stop ends decoding, sending and the inactivity watch; the endpoint
// stays open.
func (t *Terminal) Stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return
	}
	t.stopped = true
	if t.running {
		t.br.engine.playout.remove(t)
	}
	t.br.Stop()
	if t.recv != nil {
		t.recv.close()
	}
}

// tick runs on the playout goroutine: decode what arrived, then send
// what the source has.
func (t *Terminal) tick(now time.Time) {
	if t.recv != nil {
		t.recv.tick(now)
	}
	if t.send != nil {
		t.send.tick(now)
	}
}
