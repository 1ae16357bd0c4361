package b2bua

import (
	"net/netip"
	"testing"

	"github.com/switchboard/switchboard/media"
)

func TestSDPDirection(t *testing.T) {
	held := netip.MustParseAddr("0.0.0.0")
	live := netip.MustParseAddr("192.0.2.1")
	for _, tc := range []struct {
		addr netip.Addr
		dir  media.Direction
		want media.Direction
	}{
		{live, media.SendRecv, media.SendRecv},
		{live, media.SendOnly, media.SendOnly},
		{held, media.SendRecv, media.SendOnly}, // RFC 2543 hold
		{held, media.RecvOnly, media.Inactive},
		{held, media.SendOnly, media.SendOnly},
		{held, media.Inactive, media.Inactive},
		{netip.Addr{}, media.SendRecv, media.SendRecv}, // no address (our own late offer)
	} {
		if got := sdpDirection(&media.Description{Addr: tc.addr, Direction: tc.dir}); got != tc.want {
			t.Errorf("%v %v: %v, want %v", tc.addr, tc.dir, got, tc.want)
		}
	}
}

func TestAnswerDirection(t *testing.T) {
	for _, tc := range []struct{ offered, answered, want media.Direction }{
		{media.SendRecv, media.SendRecv, media.SendRecv},
		{media.SendRecv, media.RecvOnly, media.RecvOnly},
		{media.SendOnly, media.RecvOnly, media.RecvOnly},
		{media.SendOnly, media.SendRecv, media.RecvOnly}, // narrowed (RFC 3264 §6.1)
		{media.SendOnly, media.SendOnly, media.Inactive},
		{media.RecvOnly, media.SendRecv, media.SendOnly},
		{media.RecvOnly, media.RecvOnly, media.Inactive},
		{media.Inactive, media.SendRecv, media.Inactive},
	} {
		if got := answerDirection(tc.offered, tc.answered); got != tc.want {
			t.Errorf("offer %v answer %v: %v, want %v", tc.offered, tc.answered, got, tc.want)
		}
	}
}
