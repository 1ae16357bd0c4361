package codecs

import "testing"

func TestClassifyGap(t *testing.T) {
	tests := []struct {
		name         string
		prevSeq, seq uint16
		prevTS, ts   uint32
		spf          uint32
		want         GapKind
	}{
		{"adjacent", 100, 101, 8000, 8160, 160, GapNone},
		{"adjacent_short_frame", 100, 101, 8000, 8080, 160, GapNone},
		{"one_lost", 100, 102, 8000, 8320, 160, GapLoss},
		{"burst_lost", 100, 110, 8000, 9600, 160, GapLoss},
		{"loss_ts_unchanged", 100, 103, 8000, 8000, 160, GapLoss},
		{"dtx_pause", 100, 101, 8000, 16000, 160, GapDTX},
		{"dtx_one_frame", 100, 101, 8000, 8321, 160, GapDTX},
		{"dtx_exactly_two_frames", 100, 101, 8000, 8320, 160, GapDTX},
		{"loss_and_pause", 100, 102, 8000, 24000, 160, GapLoss},
		{"duplicate", 100, 100, 8000, 8000, 160, GapNone},
		{"reordered", 100, 99, 8000, 7840, 160, GapNone},
		{"seq_wrap_adjacent", 65535, 0, 8000, 8160, 160, GapNone},
		{"seq_wrap_loss", 65534, 1, 8000, 8480, 160, GapLoss},
		{"seq_wrap_dtx", 65535, 0, 8000, 40000, 160, GapDTX},
		{"ts_wrap_adjacent", 7, 8, 4294967200, 64, 160, GapNone},
		{"ts_wrap_dtx", 7, 8, 4294967200, 8000, 160, GapDTX},
		{"ts_backwards", 7, 8, 8000, 4000, 160, GapNone},
		{"unknown_frame_size", 7, 8, 8000, 80000, 0, GapNone},
		{"opus_48k_dtx", 1, 2, 0, 48000, 960, GapDTX},
		{"opus_48k_adjacent", 1, 2, 0, 960, 960, GapNone},
		{"half_range_seq_is_backwards", 0, 0x8000, 0, 160, 160, GapNone},
		{"just_under_half_range_is_loss", 0, 0x7fff, 0, 160, 160, GapLoss},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ClassifyGap(tc.prevSeq, tc.prevTS, tc.seq, tc.ts, tc.spf); got != tc.want {
				t.Errorf("ClassifyGap(%d, %d, %d, %d, %d) = %v, want %v",
					tc.prevSeq, tc.prevTS, tc.seq, tc.ts, tc.spf, got, tc.want)
			}
		})
	}
}

func TestGapKindString(t *testing.T) {
	for k, want := range map[GapKind]string{GapNone: "none", GapLoss: "loss", GapDTX: "dtx", 7: "GapKind(7)"} {
		if got := k.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(k), got, want)
		}
	}
}
