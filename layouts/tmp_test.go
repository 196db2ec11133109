package layouts
import ("testing")
func TestTmp(t *testing.T) {
	j := loadJob(t, "/tmp/nals-fr.json")
	d := lay(t, j)
	n, step, _ := columnGeometry(j, d)
	p := len(d.Pages)-1
	top := make([]float64, n); bot := make([]float64, n)
	for _, tx := range signatoryTexts(d, p) {
		col := int((tx.X - marginX + 0.5) / step)
		if top[col] == 0 { top[col] = tx.Y }
		bot[col] = tx.Y
	}
	t.Log(top, bot)
}
