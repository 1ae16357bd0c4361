//go:build !cgo

package recorder

import (
	"errors"
	"os"
)

// newOggSink: Ogg/Opus needs libopus (cgo); a build without cgo records WAV only.
func newOggSink(*os.File, int, int) (sink, error) {
	return nil, errors.New("Ogg/Opus recording needs a build with cgo (libopus)")
}
