package b2bua

import (
	"syscall"
	"unsafe"
)

// countFDs counts the process's open descriptors by reading /proc/self/fd
// with getdents(2) into a stack buffer: no allocation per entry, so a
// sample of tens of thousands of descriptors stays cheap. 0 if /proc is
// not readable.
func countFDs() int {
	fd, err := syscall.Open("/proc/self/fd", syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return 0
	}
	defer syscall.Close(fd)
	var buf [8192]byte
	n := 0
	for {
		m, err := syscall.Getdents(fd, buf[:])
		if err != nil || m <= 0 {
			break
		}
		for off := 0; off < m; {
			d := (*syscall.Dirent)(unsafe.Pointer(&buf[off]))
			if d.Reclen == 0 {
				break
			}
			if d.Name[0] != '.' {
				n++
			}
			off += int(d.Reclen)
		}
	}
	return max(n-1, 0) // the directory's own descriptor
}
