//go:build !cgo

package faxgw

import "errors"

// FrameSamples is the audio a Gateway takes and gives per call of Audio.
const FrameSamples = 160

// Config is the T.38 session the gateway speaks (see the cgo build).
type Config struct {
	Version, MaxBitRate, MaxDatagram, Redundancy int
	TransferredTCF, NoECM                        bool
}

// Stats counts what a gateway carried.
type Stats struct {
	DatagramsIn, DatagramsOut, IFPIn, Malformed uint64
	Pages                                       int
}

// Gateway is the fax gateway; a build without cgo has none.
type Gateway struct{}

// ErrNoGateway is New's error in a build without cgo.
var ErrNoGateway = errors.New("faxgw: built without cgo (no spandsp)")

// New fails: spandsp is C.
func New(Config, func([]byte)) (*Gateway, error) { return nil, ErrNoGateway }

// Audio does nothing.
func (*Gateway) Audio(in, out []int16) {}

// ReceiveUDPTL does nothing.
func (*Gateway) ReceiveUDPTL([]byte) {}

// Stats returns nothing.
func (*Gateway) Stats() Stats { return Stats{} }

// Close does nothing.
func (*Gateway) Close() {}
