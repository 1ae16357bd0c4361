package media

import (
	"reflect"
	"testing"
)

func TestTranscodeOffer(t *testing.T) {
	pcmu := Codec{PT: 0, Name: "PCMU", Clock: 8000, Channels: 1}
	pcma := Codec{PT: 8, Name: "PCMA", Clock: 8000, Channels: 1}
	opus := Codec{PT: 111, Name: "opus", Clock: 48000, Channels: 2}
	ev := Codec{PT: 101, Name: "telephone-event", Clock: 8000, Channels: 1, Fmtp: "0-16"}
	g729 := Codec{PT: 18, Name: "G729", Clock: 8000, Channels: 1}
	callerOpus := Codec{PT: 111, Name: "X-other", Clock: 8000, Channels: 1}
	can := func(c Codec) bool { return c.Name != "G729" }

	got := TranscodeOffer([]Codec{pcmu, ev}, []Codec{opus, pcmu, pcma, ev, g729}, can)
	want := []Codec{pcmu, ev, opus, pcma}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	// A clashing payload type is renumbered into the dynamic range.
	got = TranscodeOffer([]Codec{callerOpus}, []Codec{opus}, can)
	if len(got) != 2 || got[1].Name != "opus" || got[1].PT != 96 {
		t.Fatalf("clash not renumbered: %+v", got)
	}
}

func TestTranscodeAnswer(t *testing.T) {
	g729 := Codec{PT: 18, Name: "G729", Clock: 8000, Channels: 1}
	g722 := Codec{PT: 9, Name: "G722", Clock: 8000, Channels: 1}
	opus := Codec{PT: 107, Name: "opus", Clock: 48000, Channels: 2}
	ev8 := Codec{PT: 101, Name: "telephone-event", Clock: 8000, Channels: 1}
	ev48 := Codec{PT: 110, Name: "telephone-event", Clock: 48000, Channels: 1}
	can := func(c Codec) bool { return c.Name != "G729" }

	ans, audio, ok := TranscodeAnswer([]Codec{g729, opus, g722, ev8, ev48}, can)
	if !ok || audio != opus || !reflect.DeepEqual(ans, []Codec{opus, ev48}) {
		t.Fatalf("got %v %+v %+v", ok, audio, ans)
	}
	ans, audio, ok = TranscodeAnswer([]Codec{g722, ev48}, can)
	if !ok || audio != g722 || !reflect.DeepEqual(ans, []Codec{g722, ev48}) {
		t.Fatalf("got %v %+v %+v", ok, audio, ans)
	}
	if _, _, ok := TranscodeAnswer([]Codec{g729, ev8}, can); ok {
		t.Fatal("G.729 only: transcoding must be impossible")
	}
}

func TestWithEvents(t *testing.T) {
	pcmu := Codec{PT: 0, Name: "PCMU", Clock: 8000, Channels: 1}
	other := Codec{PT: 101, Name: "X", Clock: 8000, Channels: 1}
	ev := Codec{PT: 101, Name: "telephone-event", Clock: 8000, Channels: 1, Fmtp: "0-16"}
	if got := WithEvents([]Codec{pcmu}, []Codec{pcmu, ev}); !reflect.DeepEqual(got, []Codec{pcmu, ev}) {
		t.Fatalf("event not added: %+v", got)
	}
	if got := WithEvents([]Codec{pcmu, ev}, []Codec{ev}); len(got) != 2 {
		t.Fatalf("event added twice: %+v", got)
	}
	got := WithEvents([]Codec{pcmu, other}, []Codec{ev})
	if len(got) != 3 || got[2].Name != "telephone-event" || got[2].PT != 96 {
		t.Fatalf("clash not renumbered: %+v", got)
	}
	if got := WithEvents([]Codec{pcmu}, []Codec{pcmu}); len(got) != 1 {
		t.Fatalf("no own event, yet one added: %+v", got)
	}
}
