package fonts

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// SubsetGlyphs returns a TrueType font whose glyph k (k ≥ 1) is glyph
// gids[k-1] of the face, glyph 0 being .notdef, followed by the
// components composite glyphs refer to. A glyph id may be listed more
// than once (each copy is its own glyph). It is the font program of a
// CIDFontType2 font whose CIDs are the new glyph ids (CIDToGIDMap
// /Identity): shaped text refers to glyphs, not characters, so the
// subset has no character map entries and a format 3 post table.
func (f *Face) SubsetGlyphs(gids []uint16) ([]byte, error) {
	b, err := f.subsetGlyphs(gids)
	if err != nil {
		return nil, fmt.Errorf("subset font %s: %w", f.name, err)
	}
	return b, nil
}

func (f *Face) subsetGlyphs(gids []uint16) ([]byte, error) {
	if len(gids)+1 > 0xFFFF {
		return nil, errors.New("too many glyphs")
	}
	oldOf := make([]uint16, 1, len(gids)+16)
	for _, g := range gids {
		if int(g) >= f.nGlyphs {
			return nil, fmt.Errorf("glyph %d out of range", g)
		}
		oldOf = append(oldOf, g)
	}
	compNew := map[uint16]uint16{} // component old gid -> new gid
	datas := make([][]byte, 0, len(oldOf))
	for i := 0; i < len(oldOf); i++ {
		d, err := f.glyphData(int(oldOf[i]))
		if err != nil {
			return nil, err
		}
		if len(d) >= 10 && int16(u16(d, 0)) < 0 {
			d = slices.Clone(d)
			bad := false
			err := walkComponents(d, func(at int) {
				og := u16(d, at)
				if int(og) >= f.nGlyphs {
					bad = true
					return
				}
				ng, ok := compNew[og]
				if !ok {
					ng = uint16(len(oldOf))
					compNew[og] = ng
					oldOf = append(oldOf, og)
				}
				binary.BigEndian.PutUint16(d[at:], ng)
			})
			if err == nil && bad {
				err = errors.New("component glyph id out of range")
			}
			if err != nil {
				return nil, fmt.Errorf("glyph %d: %w", oldOf[i], err)
			}
		}
		datas = append(datas, d)
		if len(oldOf) > 0xFFFF {
			return nil, errors.New("too many glyphs")
		}
	}
	n := len(oldOf)
	size := 0
	for _, d := range datas {
		size += (len(d) + 3) &^ 3
	}
	glyf := make([]byte, 0, size)
	loca := make([]byte, 4*(n+1))
	for i, d := range datas {
		binary.BigEndian.PutUint32(loca[4*i:], uint32(len(glyf)))
		glyf = append(glyf, d...)
		for len(glyf)%4 != 0 {
			glyf = append(glyf, 0)
		}
	}
	binary.BigEndian.PutUint32(loca[4*n:], uint32(len(glyf)))
	hmtx := make([]byte, 4*n)
	for i, og := range oldOf {
		binary.BigEndian.PutUint16(hmtx[4*i:], f.advances[og])
		binary.BigEndian.PutUint16(hmtx[4*i+2:], uint16(f.lsb(int(og))))
	}
	head := slices.Clone(f.tables["head"])
	binary.BigEndian.PutUint32(head[8:], 0)
	binary.BigEndian.PutUint16(head[50:], 1)
	hhea := slices.Clone(f.tables["hhea"])
	binary.BigEndian.PutUint16(hhea[34:], uint16(n))
	maxp := slices.Clone(f.tables["maxp"])
	binary.BigEndian.PutUint16(maxp[4:], uint16(n))
	cmap, err := buildCmap(nil)
	if err != nil {
		return nil, fmt.Errorf("cmap table: %w", err)
	}
	post := make([]byte, 32)
	if p := f.tables["post"]; len(p) >= 32 {
		copy(post, p[:32])
	}
	binary.BigEndian.PutUint32(post[0:], 0x00030000)
	tables := map[string][]byte{
		"head": head, "hhea": hhea, "maxp": maxp, "hmtx": hmtx,
		"loca": loca, "glyf": glyf, "cmap": cmap, "post": post,
	}
	if os2 := f.tables["OS/2"]; len(os2) >= 68 {
		tables["OS/2"] = os2
	}
	for t, d := range f.sharedTableMap() {
		tables[t] = d
	}
	return assemble(tables), nil
}
