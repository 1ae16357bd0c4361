package media

// Reattach gives the bridge back the RTP of its endpoints after something
// else took it for a while: a Terminal started on one of them, or
// Endpoint.SetHandler (a fax gateway on a leg, b2bua/fax_gateway.go). It
// does nothing before Start or after Stop.
func (br *Bridge) Reattach() {
	br.mu.Lock()
	defer br.mu.Unlock()
	if !br.started || br.stopped {
		return
	}
	br.a.rx.Store(br.ab)
	br.b.rx.Store(br.ba)
}
