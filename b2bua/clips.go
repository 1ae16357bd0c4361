package b2bua

import (
	"os"
	"sync"
	"time"

	"github.com/switchboard/switchboard/media"
)

// clipCache keeps the sound files of services.moh and the playback
// routes loaded (and, inside each media.Clip, converted once per rate),
// so that a hold or a playback does not read and resample the file
// again. An entry is reloaded when the file's size or modification time
// changes; only configured files are ever loaded, which bounds it.
type clipCache struct {
	mu    sync.Mutex // guards clips
	clips map[string]cachedClip
}

type cachedClip struct {
	clip  *media.Clip
	size  int64
	mtime time.Time
}

// load returns the clip of path, from the cache when the file is unchanged.
func (cc *clipCache) load(path string) (*media.Clip, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if e, ok := cc.clips[path]; ok && e.size == st.Size() && e.mtime.Equal(st.ModTime()) {
		return e.clip, nil
	}
	clip, err := media.LoadClip(path)
	if err != nil {
		return nil, err
	}
	if cc.clips == nil {
		cc.clips = map[string]cachedClip{}
	}
	cc.clips[path] = cachedClip{clip: clip, size: st.Size(), mtime: st.ModTime()}
	return clip, nil
}

// loadClip implements mediaPath.
func (m *engineMedia) loadClip(path string) (*media.Clip, error) { return m.clips.load(path) }
