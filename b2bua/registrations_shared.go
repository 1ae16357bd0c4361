package b2bua

import "github.com/switchboard/switchboard/registrar"

// ShareRegistrations makes the registrar write its bindings through to st
// and look a user it holds none of up in st (registrar.store: postgres,
// registrar/store_shared.go). Call it before Listen.
func (s *Server) ShareRegistrations(st registrar.Shared) { s.reg.Share(st) }
