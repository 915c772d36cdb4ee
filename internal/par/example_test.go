package par_test

import (
	"fmt"

	"github.com/bpfsig/bpfsig/internal/par"
)

func ExampleDo() {
	squares := make([]int, 5)
	par.Do(len(squares), 2, func(i int) { squares[i] = i * i })
	fmt.Println(squares)
	// Output: [0 1 4 9 16]
}
