package b2bua

import (
	"context"
	"log/slog"
)

// lazyAttrs is a slog.Handler that keeps the attributes of Logger.With
// aside and hands them to the real handler only when a record is logged.
// A call's logger gains call_id, from, dialled and leg per call; the text
// and JSON handlers format such attributes eagerly in WithAttrs, which
// would cost every call even at a level where it logs nothing. The output
// is the same: h.WithAttrs(attrs) is applied before each Handle.
type lazyAttrs struct {
	h     slog.Handler
	attrs []slog.Attr
}

var _ slog.Handler = (*lazyAttrs)(nil)

// Enabled reports whether the real handler logs at level.
func (l *lazyAttrs) Enabled(ctx context.Context, level slog.Level) bool {
	return l.h.Enabled(ctx, level)
}

// Handle logs r through the real handler with the kept attributes put
// before the record's own, which is where WithAttrs would have put them.
// (Calling WithAttrs here instead builds a handler per line: the same
// time, twice the allocations.)
func (l *lazyAttrs) Handle(ctx context.Context, r slog.Record) error {
	if len(l.attrs) == 0 {
		return l.h.Handle(ctx, r)
	}
	nr := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	nr.AddAttrs(l.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		nr.AddAttrs(a)
		return true
	})
	return l.h.Handle(ctx, nr)
}

// WithAttrs keeps attrs for later.
func (l *lazyAttrs) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return l
	}
	return &lazyAttrs{h: l.h, attrs: append(l.attrs[:len(l.attrs):len(l.attrs)], attrs...)}
}

// WithGroup applies the kept attributes, then opens the group: attributes
// before a group stay outside it.
func (l *lazyAttrs) WithGroup(name string) slog.Handler {
	h := l.h
	if len(l.attrs) > 0 {
		h = h.WithAttrs(l.attrs)
	}
	return h.WithGroup(name)
}
