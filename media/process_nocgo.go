//go:build !cgo

package media

import (
	"fmt"
	"time"

	"github.com/switchboard/switchboard/media/rtp"
)

// Without cgo there are no codecs (libopus, spandsp and speexdsp are C):
// the engine relays only, and Configure fails for a direction that needs
// processing.

// CanTranscode reports whether the processing chain can decode and encode
// c; never in a build without cgo.
func CanTranscode(c Codec) bool { return false }

// processor stands in for the processing chain of cgo builds.
type processor struct{}

func newProcessor(d *direction, in, out LegFormat, cfg *BridgeConfig) (*processor, error) {
	return nil, fmt.Errorf("%w: built without cgo", ErrNoTranscoding)
}

func (p *processor) start(st outStream)                            {}
func (p *processor) handback() (outStream, bool)                   { return outStream{}, false }
func (p *processor) close()                                        {}
func (p *processor) tick(now time.Time)                            {}
func (p *processor) HandleRTP(pkt []byte, h rtp.Header, now int64) {}

// SendDigit sends key toward to as an RFC 4733 event; without cgo no
// direction is processed, so it always fails.
func (br *Bridge) SendDigit(to *Endpoint, key byte, dur time.Duration) error {
	return ErrNotProcessing
}

// newSinkProcessor fails: without cgo nothing is decoded.
func newSinkProcessor(d *direction, f LegFormat, cfg *BridgeConfig) (*processor, error) {
	return newProcessor(d, f, f, cfg)
}

// generator stands in for a Terminal's sending half of cgo builds.
type generator struct{}

func newGenerator(ep *Endpoint, f LegFormat, src Source, complexity int) (*generator, error) {
	return nil, fmt.Errorf("%w: built without cgo", ErrNoTranscoding)
}

func (g *generator) continueFrom(old *generator) {}
func (g *generator) tick(now time.Time)          {}

func (p *processor) copyRTP(h rtp.Header, pkt []byte, now int64) {}
