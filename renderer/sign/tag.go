package sign

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// tagging is what tagWidget adds to an update for one widget of a
// tagged PDF: the widget's /StructParent key and the objects to write
// (new or rewritten, by number, each its dictionary's text).
type tagging struct {
	structParent int
	objects      map[int]string
}

// tagWidget puts the widget fieldNum of page pageRef into the structure
// tree of a tagged PDF (one with /StructTreeRoot), as PDF/UA and PDF/A
// level a want: a new /Form structure element formNum whose content is
// an object reference to the widget, appended to the kids of the
// document element, and a /ParentTree entry mapping the widget's
// /StructParent to it. It returns nil for an untagged PDF, and nil too
// for a structure tree of a shape it does not know (a /ParentTree with
// /Kids, a root with several kids, indirect arrays): the widget is then
// left out of the tree rather than the letter left unsigned.
func tagWidget(tr *trailer, catalog dict, pageRef ref, fieldNum, formNum int) (*tagging, error) {
	v, ok := catalog.get("StructTreeRoot")
	if !ok {
		return nil, nil
	}
	rootRef, err := parseRef(v)
	if err != nil {
		return nil, nil
	}
	_, root, err := readDictObject(tr, rootRef, "structure tree root")
	if err != nil {
		return nil, err
	}
	// The document element: the root's only kid.
	k, _ := root.get("K")
	docVal := bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimPrefix(k, []byte("[")), []byte("]")))
	docRef, err := parseRef(docVal)
	if err != nil {
		return nil, nil
	}
	if docRef == rootRef {
		return nil, nil
	}
	_, doc, err := readDictObject(tr, docRef, "structure element")
	if err != nil {
		return nil, err
	}
	var kids string
	switch dk, ok := doc.get("K"); {
	case !ok:
		kids = fmt.Sprintf("[%d 0 R]", formNum)
	case hasPrefix(dk, "["):
		kids = fmt.Sprintf("%s %d 0 R]", strings.TrimSuffix(strings.TrimSpace(string(dk)), "]"), formNum)
	default: // one kid: a reference, an MCID or a dictionary
		kids = fmt.Sprintf("[%s %d 0 R]", dk, formNum)
	}

	// The parent tree: a number tree with its /Nums in one node.
	ptVal, ok := root.get("ParentTree")
	if !ok {
		return nil, nil
	}
	var (
		pt    dict
		ptRef ref
	)
	if hasPrefix(ptVal, "<<") {
		if pt, err = parseDict(ptVal); err != nil {
			return nil, nil
		}
	} else {
		if ptRef, err = parseRef(ptVal); err != nil {
			return nil, nil
		}
		if _, pt, err = readDictObject(tr, ptRef, "parent tree"); err != nil {
			return nil, err
		}
	}
	nums, ok := pt.get("Nums")
	if _, hasKids := pt.get("Kids"); hasKids || !ok || !hasPrefix(nums, "[") {
		return nil, nil
	}
	key := 0
	if nk, ok := root.get("ParentTreeNextKey"); ok {
		if key, err = strconv.Atoi(string(nk)); err != nil {
			return nil, nil
		}
	} else {
		// The largest key + 1: keys are the integers at even places.
		toks, i := [][]byte(nil), 1
		for i < len(nums)-1 {
			end, err := skipValue(nums, i)
			if err != nil {
				return nil, nil
			}
			if t := bytes.TrimSpace(nums[i:end]); len(t) > 0 {
				toks = append(toks, t)
			}
			i = end
			for i < len(nums)-1 && isSpace(nums[i]) {
				i++
			}
		}
		for j := 0; j < len(toks); j += 2 {
			if n, err := strconv.Atoi(string(toks[j])); err == nil && n >= key {
				key = n + 1
			}
		}
	}
	newNums := fmt.Sprintf("%s %d %d 0 R]", strings.TrimSuffix(strings.TrimSpace(string(nums)), "]"), key, formNum)

	t := &tagging{structParent: key, objects: map[int]string{}}
	t.objects[formNum] = fmt.Sprintf("<</Type /StructElem /S /Form /P %d %d R /Pg %d %d R /K <</Type /OBJR /Obj %d 0 R /Pg %d %d R>>>>",
		docRef.num, docRef.gen, pageRef.num, pageRef.gen, fieldNum, pageRef.num, pageRef.gen)
	t.objects[docRef.num] = dictText(doc, map[string]string{"K": kids})
	rootSet := map[string]string{"ParentTreeNextKey": strconv.Itoa(key + 1)}
	if ptRef.num == 0 {
		rootSet["ParentTree"] = dictText(pt, map[string]string{"Nums": newNums})
	} else {
		t.objects[ptRef.num] = dictText(pt, map[string]string{"Nums": newNums})
	}
	t.objects[rootRef.num] = dictText(root, rootSet)
	return t, nil
}

// dictText writes d with the entries of set replaced or added.
func dictText(d dict, set map[string]string) string {
	var b strings.Builder
	b.WriteString("<<")
	done := map[string]bool{}
	for _, e := range d {
		val := string(e.val)
		if v, ok := set[e.key]; ok {
			val, done[e.key] = v, true
		}
		fmt.Fprintf(&b, "/%s %s\n", e.key, val)
	}
	for _, k := range slices.Sorted(maps.Keys(set)) {
		if !done[k] {
			fmt.Fprintf(&b, "/%s %s\n", k, set[k])
		}
	}
	b.WriteString(">>")
	return b.String()
}
