package fonts

import (
	"encoding/binary"
	"errors"
	"fmt"
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
	datas, err := f.pullComponents(&oldOf, func(og uint16) (uint16, bool) {
		if int(og) >= f.nGlyphs {
			return 0, false
		}
		ng, ok := compNew[og]
		if !ok {
			ng = uint16(len(oldOf))
			compNew[og] = ng
			oldOf = append(oldOf, og)
		}
		return ng, true
	})
	if err != nil {
		return nil, err
	}
	tables := f.glyphTables(oldOf, datas)
	cmap, err := buildCmap(nil)
	if err != nil {
		return nil, fmt.Errorf("cmap table: %w", err)
	}
	post := make([]byte, 32)
	if p := f.tables["post"]; len(p) >= 32 {
		copy(post, p[:32])
	}
	binary.BigEndian.PutUint32(post[0:], 0x00030000)
	tables["cmap"], tables["post"] = cmap, post
	if os2 := f.tables["OS/2"]; len(os2) >= 68 {
		tables["OS/2"] = os2
	}
	for t, d := range f.sharedTableMap() {
		tables[t] = d
	}
	return assemble(tables), nil
}
