#include "textflag.h"

// func prefetchSlots(base unsafe.Pointer, mask uint64, hs *uint32, n int)
TEXT ·prefetchSlots(SB), NOSPLIT, $0-32
	MOVQ base+0(FP), AX
	MOVQ mask+8(FP), BX
	MOVQ hs+16(FP), SI
	MOVQ n+24(FP), CX
	TESTQ CX, CX
	JLE done
loop:
	MOVL (SI), DX
	ANDQ BX, DX
	SHLQ $5, DX
	PREFETCHT0 (AX)(DX*1)
	PREFETCHT0 32(AX)(DX*1)
	ADDQ $4, SI
	DECQ CX
	JNZ loop
done:
	RET
