package main

import (
	"fmt"
	"os"

	"github.com/carta-letters/carta/renderer"
)

func main() {
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		panic(err)
	}
	_, res, err := renderer.RenderJSON(data)
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	os.WriteFile(os.Args[2], res.PDF, 0o644)
	fmt.Println("pages", res.Pages)
}
