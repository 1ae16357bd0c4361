package media

// A monitor feeds the taps of a relayed direction (a recorded call whose
// legs share a codec) without taking the relay off its fast path:
//
//	reactor:  relay ─► copyRTP: jitter.Buffer.Push (a copy, a mutex) ─► rewrite ─► send
//	playout:  monitor tick ─► Pop → decode/conceal → taps (nothing encoded or sent)
//
// The relay pays an atomic load when there is no monitor, and a copy into
// the jitter buffer when there is; decoding happens on the playout clock.
// A monitor is a processor built with newSinkProcessor, so its PCM is
// what the processing chain would have decoded (concealment, comfort
// noise, the source's own rate).

// setMonitor starts (on) or stops d's monitor for the format in that d
// receives. br.mu is held.
func (br *Bridge) setMonitor(d *direction, in LegFormat, on bool) {
	br.stopMonitor(d)
	if !on {
		return
	}
	m, err := newSinkProcessor(d, in, &BridgeConfig{})
	if err != nil {
		br.log.Info("recording tap: cannot decode the relayed codec", "codec", in.Audio.Name, "error", err)
		return
	}
	d.monitor.Store(m)
	br.engine.playout.add(m)
}

// stopMonitor stops d's monitor, if any. br.mu is held.
func (br *Bridge) stopMonitor(d *direction) {
	m := d.monitor.Swap(nil)
	if m == nil {
		return
	}
	br.engine.playout.remove(m)
	m.close()
}
