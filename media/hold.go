package media

import (
	"errors"
	"fmt"
	"slices"
)

// Music on hold inside a bridge (Bridge.Hold): the held party hears a
// Source instead of the other leg, and nothing is sent to the holder.
//
//	holder ──► drop                     (its direction's handler saved)
//	held   ◄── generator ◄── Source     (on the playout clock, own SSRC)
//	held   ──► drop                     (the holder asked for no media)
//
// Hold(held, nil) puts both saved handlers back (a processor back on the
// clock); the relay's outStream then continues past the gap, as after
// any source change (marker, timestamp by the wall clock).

// ErrHeld is returned by Configure while music on hold plays: end the
// hold first.
var ErrHeld = errors.New("media: bridge is on hold (music on hold playing)")

// holdState is a hold in force.
type holdState struct {
	gen    *generator
	saved  [2]*handlerBox // ab's and ba's handlers before the hold
	toHeld *direction     // the direction whose stream the music continues
}

// Hold plays src to held (one of the bridge's endpoints) in the codec
// and ptime it negotiated (the last Configure), and stops both
// directions; Hold(held, nil) ends it and restores what ran before.
func (br *Bridge) Hold(held *Endpoint, src Source) error {
	br.mu.Lock()
	defer br.mu.Unlock()
	if src == nil {
		br.endHold()
		return nil
	}
	if br.stopped || br.hold != nil {
		return fmt.Errorf("media: hold: bridge stopped or already held")
	}
	f := br.cfg.B
	switch held {
	case br.b:
	case br.a:
		f = br.cfg.A
	default:
		return fmt.Errorf("media: hold: endpoint is not part of the bridge")
	}
	gen, err := newGenerator(held, f, src, br.cfg.OpusComplexity)
	if err != nil {
		return err
	}
	h := &holdState{gen: gen}
	for i, d := range []*direction{br.ab, br.ba} {
		h.saved[i] = d.handler.Load()
		d.setHandler(dropHandler{})
		if d.proc != nil {
			br.engine.playout.remove(d.proc)
		}
		if d.to == held {
			h.toHeld = d
		}
	}
	// The music continues the stream the held party was receiving (same
	// SSRC, sequence +1): take its state from whoever owned it.
	d := h.toHeld
	if st, ok := d.proc.handbackState(); ok {
		gen.out = st
	} else {
		// The relay's state is owned by the holder's reactor: once it has
		// let go of the packet it may be inside (the handler is dropHandler
		// from now on), the state is final.
		d.from.pair.waitIdle()
		gen.out = d.out
		if rr, ok := h.saved[slices.Index([]*direction{br.ab, br.ba}, d)].h.(*resumeRelay); ok {
			gen.out = rr.state
		}
	}
	gen.out.resync = true
	br.hold = h
	br.engine.playout.add(gen)
	return nil
}

// endHold ends a hold in force, if any. br.mu is held.
func (br *Bridge) endHold() {
	h := br.hold
	if h == nil {
		return
	}
	br.hold = nil
	br.engine.playout.remove(h.gen)
	// Hand the stream back (off the clock, the generator's state is
	// final; under dropHandler nobody else touches d.out).
	st := h.gen.out
	st.resync = true
	for i, d := range []*direction{br.ab, br.ba} {
		if d == h.toHeld {
			switch x := h.saved[i].h.(type) {
			case *processor:
				x.start(st)
			case *resumeRelay:
				x.state = st
			default:
				d.out = st
			}
		}
		d.handler.Store(h.saved[i])
		if d.proc != nil && !br.stopped {
			br.engine.playout.add(d.proc)
		}
	}
}
