//go:build amd64 && !purego

#include "textflag.h"

// The bytes decodeTokensAVX2 broadcasts into its constant vectors.
DATA decconst<>+0x00(SB)/1, $0x5c // '\\'
DATA decconst<>+0x01(SB)/1, $0x30 // '0'
DATA decconst<>+0x02(SB)/1, $0x78 // 'x'
DATA decconst<>+0x03(SB)/1, $0x0a // '\n'
DATA decconst<>+0x04(SB)/1, $0x09 // the last decimal digit's value
DATA decconst<>+0x05(SB)/1, $0x20 // the ASCII case bit
DATA decconst<>+0x06(SB)/1, $0x61 // 'a'
DATA decconst<>+0x07(SB)/1, $0x05 // 'f' - 'a'
DATA decconst<>+0x08(SB)/1, $0x0a // the value of 'a'
GLOBL decconst<>(SB), RODATA|NOPTR, $16

// func decodeTokensAVX2(b []byte, i int, out []byte, n int, tab *[2][256]uint64) (ni, nn, lines int)
//
// Register use: SI b, DX the last i a window may start at, AX i, DI out, R14 the last n a
// window may start at, BX n, R13 tab, R15 lines. Y7-Y15 constants; per window Y1 the
// "b[p+1] is 'x'" vector and Y2 the candidate byte of every position.
TEXT ·decodeTokensAVX2(SB), NOSPLIT, $0-96
	MOVQ b_base+0(FP), SI
	MOVQ b_len+8(FP), DX
	MOVQ i+24(FP), AX
	MOVQ out_base+32(FP), DI
	MOVQ out_len+40(FP), R14
	MOVQ n+56(FP), BX
	MOVQ tab+64(FP), R13
	XORQ R15, R15
	SUBQ $35, DX  // a window reads b[i : i+35]
	SUBQ $24, R14 // and writes at most out[n : n+24]

	VPBROADCASTB decconst<>+0x00(SB), Y15
	VPBROADCASTB decconst<>+0x01(SB), Y14
	VPBROADCASTB decconst<>+0x02(SB), Y13
	VPBROADCASTB decconst<>+0x03(SB), Y12
	VPBROADCASTB decconst<>+0x04(SB), Y11
	VPBROADCASTB decconst<>+0x05(SB), Y10
	VPBROADCASTB decconst<>+0x06(SB), Y9
	VPBROADCASTB decconst<>+0x07(SB), Y8
	VPBROADCASTB decconst<>+0x08(SB), Y7

loop:
	CMPQ AX, DX
	JGT  done
	CMPQ BX, R14
	JGT  done
	LEAQ (SI)(AX*1), R8

	// Bit p of R9: b[i+p] is a backslash; of R10, R11, R12: b[i+p+1] is '0', '\n', 'x'.
	VMOVDQU   (R8), Y0
	VMOVDQU   1(R8), Y1
	VPCMPEQB  Y15, Y0, Y0
	VPMOVMSKB Y0, R9
	VPCMPEQB  Y14, Y1, Y3
	VPMOVMSKB Y3, R10
	VPCMPEQB  Y12, Y1, Y3
	VPMOVMSKB Y3, R11
	VPCMPEQB  Y13, Y1, Y1
	VPMOVMSKB Y1, R12

	// b[i+p+2]: hex digit? (into R12) and its value (Y2).
	VMOVDQU   2(R8), Y2
	VPSUBB    Y14, Y2, Y3      // d = c - '0'
	VPMINUB   Y11, Y3, Y4
	VPCMPEQB  Y4, Y3, Y4       // d <= 9
	VPOR      Y10, Y2, Y5
	VPSUBB    Y9, Y5, Y5       // l = (c | 0x20) - 'a'
	VPMINUB   Y8, Y5, Y6
	VPCMPEQB  Y6, Y5, Y6       // l <= 5
	VPOR      Y4, Y6, Y6
	VPMOVMSKB Y6, CX
	ANDQ      CX, R12
	VPADDB    Y7, Y5, Y5       // l + 10
	VPBLENDVB Y4, Y3, Y5, Y2   // d <= 9 ? d : l + 10

	// b[i+p+3]: the same, value in Y0.
	VMOVDQU   3(R8), Y0
	VPSUBB    Y14, Y0, Y3
	VPMINUB   Y11, Y3, Y4
	VPCMPEQB  Y4, Y3, Y4
	VPOR      Y10, Y0, Y5
	VPSUBB    Y9, Y5, Y5
	VPMINUB   Y8, Y5, Y6
	VPCMPEQB  Y6, Y5, Y6
	VPOR      Y4, Y6, Y6
	VPMOVMSKB Y6, CX
	ANDQ      CX, R12
	VPADDB    Y7, Y5, Y5
	VPBLENDVB Y4, Y3, Y5, Y0

	// The byte a token starting at p stands for: `\xHH` its value, `\0` zero.
	VPSLLW $4, Y2, Y2
	VPOR   Y0, Y2, Y2
	VPAND  Y1, Y2, Y2

	// Tokens starting at p: R10 `\0`, R11 backslash-newline, R12 `\xHH`.
	ANDQ R9, R10
	ANDQ R9, R11
	ANDQ R9, R12

	// Of the positions 0..23, the backslashes must be exactly the token starts, the first
	// position one of them, and each token followed by another backslash: then the tokens
	// tile b[i:] from i, and the window takes those that start before 24.
	MOVL R10, CX
	ORL  R11, CX
	ORL  R12, CX
	ANDL $0xffffff, CX
	MOVL R9, R8
	ANDL $0xffffff, R8
	CMPL CX, R8
	JNE  done
	TESTL $1, CX
	JZ   done
	MOVL R10, R8
	ORL  R11, R8
	ANDL $0xffffff, R8
	SHLL $2, R8
	MOVL R12, CX
	ANDL $0xffffff, CX
	SHLL $4, CX
	ORL  CX, R8
	MOVL R9, CX
	NOTL CX
	ANDL R8, CX
	JNZ  done

	// Consumed: up to the first token starting at 24 or later.
	MOVL  R9, CX
	SHRL  $24, CX
	BSFL  CX, CX
	ADDQ  $24, CX
	ANDL  $0xffffff, R11
	POPCNTL R11, R11
	ADDQ  R11, R15

	// The bytes of the `\0` and `\xHH` tokens, eight positions at a time, compacted by the
	// shuffle tab holds for each 8-bit set of starts.
	ORL  R12, R10
	ANDL $0xffffff, R10

	MOVL    R10, R11
	ANDL    $0xff, R11
	MOVQ    (R13)(R11*8), X4
	VPSHUFB X4, X2, X5
	MOVQ    X5, (DI)(BX*1)
	POPCNTL R11, R11
	ADDQ    R11, BX

	MOVL    R10, R11
	SHRL    $8, R11
	ANDL    $0xff, R11
	MOVQ    2048(R13)(R11*8), X4
	VPSHUFB X4, X2, X5
	MOVQ    X5, (DI)(BX*1)
	POPCNTL R11, R11
	ADDQ    R11, BX

	SHRL         $16, R10
	VEXTRACTI128 $1, Y2, X6
	MOVQ         (R13)(R10*8), X4
	VPSHUFB      X4, X6, X5
	MOVQ         X5, (DI)(BX*1)
	POPCNTL      R10, R10
	ADDQ         R10, BX

	ADDQ CX, AX
	JMP  loop

done:
	VZEROUPPER
	MOVQ AX, ni+72(FP)
	MOVQ BX, nn+80(FP)
	MOVQ R15, lines+88(FP)
	RET
