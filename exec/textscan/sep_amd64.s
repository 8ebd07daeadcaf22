#include "textflag.h"

// Nibble tables of the separator classes (see sepWindows in sep_amd64.go):
// a byte is a separator when sepHi[byte>>4] & sepLo[byte&15] != 0.
DATA sepLo<>+0(SB)/8, $0x020202020202020A
DATA sepLo<>+8(SB)/8, $0x1636373737070302
GLOBL sepLo<>(SB), RODATA|NOPTR, $16
DATA sepHi<>+0(SB)/8, $0x2008100804020001
DATA sepHi<>+8(SB)/8, $0x0000000000000000
GLOBL sepHi<>(SB), RODATA|NOPTR, $16
DATA lowNibble<>+0(SB)/8, $0x0F0F0F0F0F0F0F0F
DATA lowNibble<>+8(SB)/8, $0x0F0F0F0F0F0F0F0F
GLOBL lowNibble<>(SB), RODATA|NOPTR, $16

// CLASSIFY turns the 16 bytes in X0 into a 16-bit mask of its word
// (non-separator) bytes in R.
#define CLASSIFY(R) \
	MOVO X0, X1; \
	PSRLW $4, X1; \
	PAND X10, X1; \
	PAND X10, X0; \
	MOVO X9, X2; \
	PSHUFB X1, X2; \
	MOVO X8, X3; \
	PSHUFB X0, X3; \
	PAND X3, X2; \
	PCMPEQB X11, X2; \
	PMOVMSKB X2, R

// func sepWindows(p *byte, n int, out *uint64)
TEXT ·sepWindows(SB), NOSPLIT, $0-24
	MOVQ p+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ out+16(FP), DI
	MOVOU sepLo<>(SB), X8
	MOVOU sepHi<>(SB), X9
	MOVOU lowNibble<>(SB), X10
	PXOR X11, X11
	TESTQ CX, CX
	JLE done
loop:
	MOVOU 0(SI), X0
	CLASSIFY(AX)
	MOVOU 16(SI), X0
	CLASSIFY(BX)
	MOVOU 32(SI), X0
	CLASSIFY(DX)
	MOVOU 48(SI), X0
	CLASSIFY(R8)
	SHLQ $16, BX
	ORQ BX, AX
	SHLQ $32, DX
	ORQ DX, AX
	SHLQ $48, R8
	ORQ R8, AX
	NOTQ AX
	MOVQ AX, (DI)
	ADDQ $64, SI
	ADDQ $8, DI
	DECQ CX
	JNZ loop
done:
	RET

// func cpuid1ECX() uint32
TEXT ·cpuid1ECX(SB), NOSPLIT, $0-4
	MOVL $1, AX
	XORL CX, CX
	CPUID
	MOVL CX, ret+0(FP)
	RET
