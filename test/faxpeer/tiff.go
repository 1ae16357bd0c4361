//go:build cgo

package faxpeer

/*
#cgo pkg-config: libtiff-4
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <tiffio.h>

static int fp_tiff_write(const char *path, int pages, int width, int rows, const uint8_t *bits) {
	TIFF *t = TIFFOpen(path, "w");
	if (!t)
		return -1;
	int bpr = width / 8;
	for (int p = 0; p < pages; p++) {
		TIFFSetField(t, TIFFTAG_IMAGEWIDTH, width);
		TIFFSetField(t, TIFFTAG_IMAGELENGTH, rows);
		TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 1);
		TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
		TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_CCITT_T6);
		TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISWHITE);
		TIFFSetField(t, TIFFTAG_FILLORDER, FILLORDER_LSB2MSB);
		TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
		TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, rows);
		TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH);
		TIFFSetField(t, TIFFTAG_XRESOLUTION, 204.0f);
		TIFFSetField(t, TIFFTAG_YRESOLUTION, 196.0f);
		TIFFSetField(t, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
		TIFFSetField(t, TIFFTAG_PAGENUMBER, p, pages);
		for (int r = 0; r < rows; r++) {
			if (TIFFWriteScanline(t, (void *) (bits + ((size_t) p * rows + r) * bpr), r, 0) < 0) {
				TIFFClose(t);
				return -1;
			}
		}
		TIFFWriteDirectory(t);
	}
	TIFFClose(t);
	return 0;
}

static TIFF *fp_tiff_open(const char *path) { return TIFFOpen(path, "r"); }

static int fp_tiff_dims(TIFF *t, uint32_t *w, uint32_t *h, int *invert) {
	uint16_t ph = PHOTOMETRIC_MINISWHITE;
	if (!TIFFGetField(t, TIFFTAG_IMAGEWIDTH, w) || !TIFFGetField(t, TIFFTAG_IMAGELENGTH, h))
		return -1;
	TIFFGetField(t, TIFFTAG_PHOTOMETRIC, &ph);
	*invert = ph == PHOTOMETRIC_MINISBLACK;
	return 0;
}

static int fp_tiff_row(TIFF *t, uint8_t *buf, uint32_t r) { return TIFFReadScanline(t, buf, r, 0); }
static int fp_tiff_next(TIFF *t) { return TIFFReadDirectory(t); }
static void fp_tiff_close(TIFF *t) { TIFFClose(t); }
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"
)

// Page is one bilevel fax page: Rows rows of Width pixels, packed eight
// to an octet, most significant bit first, 1 for black.
type Page struct {
	Width, Rows int
	Bits        []byte
}

// TestPage returns a page of the standard fax width (1728 pixels) and
// rows rows with a pattern of black bars, boxes and a checker band, the
// same for the same seed, so a received copy can be compared pixel for
// pixel.
func TestPage(rows, seed int) Page {
	const w = 1728
	p := Page{Width: w, Rows: rows, Bits: make([]byte, rows*w/8)}
	for r := range rows {
		for x := range w {
			black := false
			switch {
			case r%40 < 4: // a rule every 40 rows
				black = x > 100 && x < w-100
			case (r/40)%3 == 1: // boxes whose width depends on the seed
				black = (x/(48+8*(seed%5)))%2 == 0 && x%200 > 20
			case (r/40)%3 == 2 && r%40 > 10 && r%40 < 30: // a checker band
				black = ((x/16)+(r/8))%2 == 0 && x < w/2
			}
			if black {
				p.Bits[r*w/8+x/8] |= 0x80 >> (x % 8)
			}
		}
	}
	return p
}

// WriteTIFF writes pages (all of one size) as a T.6-compressed fine
// resolution fax TIFF, the kind spandsp sends.
func WriteTIFF(path string, pages []Page) error {
	if len(pages) == 0 {
		return errors.New("faxpeer: no pages")
	}
	w, rows := pages[0].Width, pages[0].Rows
	bits := make([]byte, 0, len(pages)*len(pages[0].Bits))
	for _, p := range pages {
		if p.Width != w || p.Rows != rows {
			return errors.New("faxpeer: pages of different sizes")
		}
		bits = append(bits, p.Bits...)
	}
	// TIFF's FILLORDER_LSB2MSB applies to the coded data; scanlines are
	// given MSB first whatever it says.
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	cb := C.CBytes(bits)
	defer C.free(cb)
	if C.fp_tiff_write(cp, C.int(len(pages)), C.int(w), C.int(rows), (*C.uint8_t)(cb)) != 0 {
		return fmt.Errorf("faxpeer: writing %s failed", path)
	}
	return nil
}

// ReadTIFF reads every page of a bilevel TIFF.
func ReadTIFF(path string) ([]Page, error) {
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	t := C.fp_tiff_open(cp)
	if t == nil {
		return nil, fmt.Errorf("faxpeer: cannot open %s", path)
	}
	defer C.fp_tiff_close(t)
	var pages []Page
	for {
		var w, h C.uint32_t
		var inv C.int
		if C.fp_tiff_dims(t, &w, &h, &inv) != 0 {
			return nil, fmt.Errorf("faxpeer: %s page %d has no size", path, len(pages)+1)
		}
		bpr := (int(w) + 7) / 8
		p := Page{Width: int(w), Rows: int(h), Bits: make([]byte, int(h)*bpr)}
		row := (*C.uint8_t)(C.malloc(C.size_t(bpr + 16)))
		for r := range int(h) {
			if C.fp_tiff_row(t, row, C.uint32_t(r)) < 0 {
				C.free(unsafe.Pointer(row))
				return nil, fmt.Errorf("faxpeer: %s page %d row %d unreadable", path, len(pages)+1, r)
			}
			copy(p.Bits[r*bpr:], unsafe.Slice((*byte)(unsafe.Pointer(row)), bpr))
		}
		C.free(unsafe.Pointer(row))
		if inv != 0 {
			for i := range p.Bits {
				p.Bits[i] ^= 0xFF
			}
		}
		pages = append(pages, p)
		if C.fp_tiff_next(t) == 0 {
			return pages, nil
		}
	}
}

// Diff compares received pages with sent ones: "" when the page count,
// sizes and every pixel are equal, else what differs first.
func Diff(sent, got []Page) string {
	if len(sent) != len(got) {
		return fmt.Sprintf("%d pages received, %d sent", len(got), len(sent))
	}
	for i := range sent {
		s, g := sent[i], got[i]
		if s.Width != g.Width || s.Rows != g.Rows {
			return fmt.Sprintf("page %d is %dx%d, sent %dx%d", i+1, g.Width, g.Rows, s.Width, s.Rows)
		}
		for k := range s.Bits {
			if s.Bits[k] != g.Bits[k] {
				bpr := s.Width / 8
				return fmt.Sprintf("page %d differs first at row %d, pixel %d", i+1, k/bpr, (k%bpr)*8)
			}
		}
	}
	return ""
}
