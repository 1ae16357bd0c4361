package b2bua

import (
	"bytes"
	"log/slog"
	"regexp"
	"testing"
)

// TestLazyAttrsSameOutput: a call logger built on lazyAttrs writes exactly
// what the plain handler writes, for text and JSON, with nested With and
// groups, and writes nothing below the level.
func TestLazyAttrsSameOutput(t *testing.T) {
	stamp := regexp.MustCompile(`time=\S+ |"time":"[^"]*",`)
	for name, mk := range map[string]func(*bytes.Buffer) slog.Handler{
		"text": func(b *bytes.Buffer) slog.Handler {
			return slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelInfo})
		},
		"json": func(b *bytes.Buffer) slog.Handler {
			return slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelInfo})
		},
	} {
		var plain, lazy bytes.Buffer
		logs := []*slog.Logger{slog.New(mk(&plain)), slog.New(&lazyAttrs{h: mk(&lazy)})}
		for _, l := range logs {
			l = l.With("call_id", "sb-1").With("from", "1000@x")
			l.Info("answered", "leg", "b", "codec", "PCMU")
			l.Debug("hidden", "leg", "a")
			l.WithGroup("media").With("port", 20000).Warn("timeout", "leg", "both")
		}
		p, z := stamp.ReplaceAllString(plain.String(), ""), stamp.ReplaceAllString(lazy.String(), "")
		if p != z {
			t.Errorf("%s output differs:\nplain:\n%s\nlazy:\n%s", name, p, z)
		}
		if bytes.Contains(lazy.Bytes(), []byte("hidden")) || !bytes.Contains(lazy.Bytes(), []byte("sb-1")) {
			t.Errorf("%s: level or attributes wrong:\n%s", name, z)
		}
	}
}
