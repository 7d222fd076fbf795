/*
 * fp_x86_64.S — BLS12-381 Fp and Fp2 arithmetic for x86-64 CPUs with BMI2 and
 * ADX (mulx, and adcx/adox: two independent carry chains), selected at run
 * time by fp.c (field.h dispatches on bls_use_adx). The portable C code in
 * fp_portable.c computes exactly the same functions; the tests compare both
 * paths on random and edge-case inputs.
 *
 * Routines (SysV ABI; all pointers to little-endian 64-bit limbs):
 *   bls_fp_mul_adx(r, a, b)     Montgomery product a b / 2^384 mod p (CIOS)
 *   bls_fp_sqr_adx(r, a)        dedicated squaring (15 + 6 mulx) + reduction
 *   bls_fp_add_adx / _sub_adx   a +- b mod p
 *   bls_fpw_mul_adx(w, a, b)    the full 768-bit product a b (no reduction)
 *   bls_fpw_sqr_adx(w, a)       the full 768-bit square
 *   bls_fpw_redc_adx(r, w)      Montgomery reduction w / 2^384 mod p, w < p 2^384
 *   bls_fpw_add_adx / _sub_adx  768-bit a +- b mod p 2^384 (inputs < p 2^384)
 *   bls_fp2_add_adx / _sub_adx  the same on both Fp2 coefficients
 *   bls_fp2w_add_adx / _sub_adx
 *   bls_fp2w_mul_adx(w, a, b)   Karatsuba Fp2 product, unreduced (two 768-bit)
 *   bls_fp2w_sqr_adx(w, a)      Fp2 square (a0 + a1)(a0 - a1), 2 a0 a1, unreduced
 *   bls_fp2_mul_adx / _sqr_adx  the same followed by the two reductions
 *
 * Bounds ("lazy reduction", Aranha-Karabina-Longa-Gebotys-Lopez 2011): p <
 * 2^381, so sums of two reduced elements (< 2p) are kept unreduced inside the
 * Karatsuba products: (a0 + a1)(b0 + b1) < 4p^2 < p 2^384, the input range of
 * the reduction. Wide values stay in [0, p 2^384) under the wide add/sub,
 * which fold with p 2^384 (a multiple of p, so the reduction of the result is
 * unchanged mod p).
 *
 * Constant time: straight-line code, no branch and no memory index depends on
 * the operands; every conditional correction is a cmov (from registers or
 * from memory that is always read).
 */
#if defined(__x86_64__) && defined(__ELF__)

	.section .rodata
	.p2align 6
.Lp:
	.quad 0xb9feffffffffaaab, 0x1eabfffeb153ffff, 0x6730d2a0f6b0f624
	.quad 0x64774b84f38512bf, 0x4b1ba7b6434bacd7, 0x1a0111ea397fe69a
.Lpinv:	/* -p^-1 mod 2^64 */
	.quad 0x89f3fffcfffcfffd

	.text

.macro FUNC name
	.p2align 5
	.globl \name
	.hidden \name
	.type \name, @function
\name:
.endm

.macro ENDF name
	.size \name, .-\name
.endm

.macro SAVE
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
.endm

.macro RESTORE
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
.endm

/* w0..w5 += low halves of rdx * m0..m5 (OF chain), w1..w6 += high halves (CF
 * chain), then the OF carry into w6. Needs CF = OF = 0 and %rax = 0 on
 * entry; the caller guarantees the 7-limb result does not overflow.
 * Clobbers rbx, rbp. */
.macro MULROW m0, m1, m2, m3, m4, m5, w0, w1, w2, w3, w4, w5, w6
	mulxq \m0, %rbx, %rbp
	adoxq %rbx, \w0
	adcxq %rbp, \w1
	mulxq \m1, %rbx, %rbp
	adoxq %rbx, \w1
	adcxq %rbp, \w2
	mulxq \m2, %rbx, %rbp
	adoxq %rbx, \w2
	adcxq %rbp, \w3
	mulxq \m3, %rbx, %rbp
	adoxq %rbx, \w3
	adcxq %rbp, \w4
	mulxq \m4, %rbx, %rbp
	adoxq %rbx, \w4
	adcxq %rbp, \w5
	mulxq \m5, %rbx, %rbp
	adoxq %rbx, \w5
	adcxq %rbp, \w6
	adoxq %rax, \w6
.endm

/* multiplicand at (%rsi) */
.macro MULROW_A w0, w1, w2, w3, w4, w5, w6
	MULROW 0(%rsi), 8(%rsi), 16(%rsi), 24(%rsi), 32(%rsi), 40(%rsi), \w0, \w1, \w2, \w3, \w4, \w5, \w6
.endm

/* multiplicand p */
.macro MULROW_P w0, w1, w2, w3, w4, w5, w6
	MULROW .Lp+0(%rip), .Lp+8(%rip), .Lp+16(%rip), .Lp+24(%rip), .Lp+32(%rip), .Lp+40(%rip), \w0, \w1, \w2, \w3, \w4, \w5, \w6
.endm

/* One Montgomery reduction round: w0..w6 += k p with k = w0 (-1/p) mod 2^64,
 * which clears w0; the window moves up one limb. */
.macro REDSTEP w0, w1, w2, w3, w4, w5, w6
	movq \w0, %rdx
	imulq .Lpinv(%rip), %rdx
	xorl %eax, %eax
	MULROW_P \w0, \w1, \w2, \w3, \w4, \w5, \w6
.endm

/* t0..t5 (< 2p) -> (%rdi) reduced below p: t - p unless that borrows.
 * Clobbers rax, rbx, rbp, rcx, rdx, r15. */
.macro FINAL_SUB t0, t1, t2, t3, t4, t5
	movq \t0, %rax
	movq \t1, %rbx
	movq \t2, %rbp
	movq \t3, %rdx
	movq \t4, %rcx
	movq \t5, %r15
	subq .Lp+0(%rip), %rax
	sbbq .Lp+8(%rip), %rbx
	sbbq .Lp+16(%rip), %rbp
	sbbq .Lp+24(%rip), %rdx
	sbbq .Lp+32(%rip), %rcx
	sbbq .Lp+40(%rip), %r15
	cmovncq %rax, \t0
	cmovncq %rbx, \t1
	cmovncq %rbp, \t2
	cmovncq %rdx, \t3
	cmovncq %rcx, \t4
	cmovncq %r15, \t5
	movq \t0, 0(%rdi)
	movq \t1, 8(%rdi)
	movq \t2, 16(%rdi)
	movq \t3, 24(%rdi)
	movq \t4, 32(%rdi)
	movq \t5, 40(%rdi)
.endm

/* ------------------------------------------------------------------ */
/* Montgomery multiplication, CIOS: product row i then reduction round i,
 * the accumulator registers rotating (after a reduction the low limb is zero
 * and becomes the new top). p < 2^382 keeps every row within 7 limbs. */

.macro MONTROUND boff, w0, w1, w2, w3, w4, w5, w6
	movq \boff(%rcx), %rdx
	xorl %eax, %eax
	MULROW_A \w0, \w1, \w2, \w3, \w4, \w5, \w6
	REDSTEP \w0, \w1, \w2, \w3, \w4, \w5, \w6
.endm

FUNC bls_fp_mul_adx
	SAVE
	movq %rdx, %rcx
	xorl %r8d, %r8d
	xorl %r9d, %r9d
	xorl %r10d, %r10d
	xorl %r11d, %r11d
	xorl %r12d, %r12d
	xorl %r13d, %r13d
	xorl %r14d, %r14d
	MONTROUND 0, %r8, %r9, %r10, %r11, %r12, %r13, %r14
	MONTROUND 8, %r9, %r10, %r11, %r12, %r13, %r14, %r8
	MONTROUND 16, %r10, %r11, %r12, %r13, %r14, %r8, %r9
	MONTROUND 24, %r11, %r12, %r13, %r14, %r8, %r9, %r10
	MONTROUND 32, %r12, %r13, %r14, %r8, %r9, %r10, %r11
	MONTROUND 40, %r13, %r14, %r8, %r9, %r10, %r11, %r12
	FINAL_SUB %r14, %r8, %r9, %r10, %r11, %r12
	RESTORE
	ret
ENDF bls_fp_mul_adx

/* ------------------------------------------------------------------ */
/* Internal routines with a private convention (callers have saved the
 * callee-saved registers). */

/* (%rdi)[0..11] = (%rsi)[0..5] * (%rcx)[0..5]; rdi, rsi, rcx, r15 are kept.
 * Clobbers rax, rbx, rbp, rdx, r8-r14. The output must not overlap the inputs. */
	.p2align 5
.Lmul384:
	xorl %eax, %eax
	xorl %r8d, %r8d
	xorl %r9d, %r9d
	xorl %r10d, %r10d
	xorl %r11d, %r11d
	xorl %r12d, %r12d
	xorl %r13d, %r13d
	xorl %r14d, %r14d
	movq 0(%rcx), %rdx
	MULROW_A %r8, %r9, %r10, %r11, %r12, %r13, %r14
	movq %r8, 0(%rdi)
	movq 8(%rcx), %rdx
	xorl %r8d, %r8d
	MULROW_A %r9, %r10, %r11, %r12, %r13, %r14, %r8
	movq %r9, 8(%rdi)
	movq 16(%rcx), %rdx
	xorl %r9d, %r9d
	MULROW_A %r10, %r11, %r12, %r13, %r14, %r8, %r9
	movq %r10, 16(%rdi)
	movq 24(%rcx), %rdx
	xorl %r10d, %r10d
	MULROW_A %r11, %r12, %r13, %r14, %r8, %r9, %r10
	movq %r11, 24(%rdi)
	movq 32(%rcx), %rdx
	xorl %r11d, %r11d
	MULROW_A %r12, %r13, %r14, %r8, %r9, %r10, %r11
	movq %r12, 32(%rdi)
	movq 40(%rcx), %rdx
	xorl %r12d, %r12d
	MULROW_A %r13, %r14, %r8, %r9, %r10, %r11, %r12
	movq %r13, 40(%rdi)
	movq %r14, 48(%rdi)
	movq %r8, 56(%rdi)
	movq %r9, 64(%rdi)
	movq %r10, 72(%rdi)
	movq %r11, 80(%rdi)
	movq %r12, 88(%rdi)
	ret

/* (%rdi)[0..11] = (%rsi)[0..5]^2: the 15 products a_i a_j (i < j) row by row
 * (finished limbs go to memory), then one pass doubling them (CF chain) and
 * adding the squares a_i^2 (OF chain). rdi, rsi, rcx, r15 are kept.
 * Clobbers rax, rbx, rbp, rdx, r8-r14. The output must not overlap the input. */
	.p2align 5
.Lsqr384:
	xorl %eax, %eax
	movq 0(%rsi), %rdx		/* row 0: a0 a1..a5 -> t1..t6 */
	mulxq 8(%rsi), %r8, %r9
	mulxq 16(%rsi), %rbx, %r10
	addq %rbx, %r9
	mulxq 24(%rsi), %rbx, %r11
	adcq %rbx, %r10
	mulxq 32(%rsi), %rbx, %r12
	adcq %rbx, %r11
	mulxq 40(%rsi), %rbx, %r13
	adcq %rbx, %r12
	adcq %rax, %r13
	movq %r8, 8(%rdi)
	movq %r9, 16(%rdi)
	movq 8(%rsi), %rdx		/* row 1: a1 a2..a5 -> t3..t7 */
	xorl %r14d, %r14d
	mulxq 16(%rsi), %rbx, %rbp
	adoxq %rbx, %r10
	adcxq %rbp, %r11
	mulxq 24(%rsi), %rbx, %rbp
	adoxq %rbx, %r11
	adcxq %rbp, %r12
	mulxq 32(%rsi), %rbx, %rbp
	adoxq %rbx, %r12
	adcxq %rbp, %r13
	mulxq 40(%rsi), %rbx, %rbp
	adoxq %rbx, %r13
	adcxq %rbp, %r14
	adoxq %rax, %r14
	movq %r10, 24(%rdi)
	movq %r11, 32(%rdi)
	movq 16(%rsi), %rdx		/* row 2: a2 a3..a5 -> t5..t8 */
	xorl %r10d, %r10d
	mulxq 24(%rsi), %rbx, %rbp
	adoxq %rbx, %r12
	adcxq %rbp, %r13
	mulxq 32(%rsi), %rbx, %rbp
	adoxq %rbx, %r13
	adcxq %rbp, %r14
	mulxq 40(%rsi), %rbx, %rbp
	adoxq %rbx, %r14
	adcxq %rbp, %r10
	adoxq %rax, %r10
	movq %r12, 40(%rdi)
	movq %r13, 48(%rdi)
	movq 24(%rsi), %rdx		/* row 3: a3 a4, a3 a5 -> t7..t9 */
	xorl %r11d, %r11d
	mulxq 32(%rsi), %rbx, %rbp
	adoxq %rbx, %r14
	adcxq %rbp, %r10
	mulxq 40(%rsi), %rbx, %rbp
	adoxq %rbx, %r10
	adcxq %rbp, %r11
	adoxq %rax, %r11
	movq %r14, 56(%rdi)
	movq %r10, 64(%rdi)
	movq 32(%rsi), %rdx		/* row 4: a4 a5 -> t9 (r11), t10 (r12) */
	mulxq 40(%rsi), %rbx, %r12
	addq %rbx, %r11
	adcq %rax, %r12
	/* out_k = 2 t_k + (squares), k = 0..11 */
	xorl %eax, %eax
	movq 0(%rsi), %rdx
	mulxq %rdx, %rbx, %rbp
	movq %rbx, 0(%rdi)
	movq 8(%rdi), %r8
	adcxq %r8, %r8
	adoxq %rbp, %r8
	movq %r8, 8(%rdi)
	movq 8(%rsi), %rdx
	mulxq %rdx, %rbx, %rbp
	movq 16(%rdi), %r8
	adcxq %r8, %r8
	adoxq %rbx, %r8
	movq %r8, 16(%rdi)
	movq 24(%rdi), %r8
	adcxq %r8, %r8
	adoxq %rbp, %r8
	movq %r8, 24(%rdi)
	movq 16(%rsi), %rdx
	mulxq %rdx, %rbx, %rbp
	movq 32(%rdi), %r8
	adcxq %r8, %r8
	adoxq %rbx, %r8
	movq %r8, 32(%rdi)
	movq 40(%rdi), %r8
	adcxq %r8, %r8
	adoxq %rbp, %r8
	movq %r8, 40(%rdi)
	movq 24(%rsi), %rdx
	mulxq %rdx, %rbx, %rbp
	movq 48(%rdi), %r8
	adcxq %r8, %r8
	adoxq %rbx, %r8
	movq %r8, 48(%rdi)
	movq 56(%rdi), %r8
	adcxq %r8, %r8
	adoxq %rbp, %r8
	movq %r8, 56(%rdi)
	movq 32(%rsi), %rdx
	mulxq %rdx, %rbx, %rbp
	movq 64(%rdi), %r8
	adcxq %r8, %r8
	adoxq %rbx, %r8
	movq %r8, 64(%rdi)
	adcxq %r11, %r11
	adoxq %rbp, %r11
	movq %r11, 72(%rdi)
	movq 40(%rsi), %rdx
	mulxq %rdx, %rbx, %rbp
	adcxq %r12, %r12
	adoxq %rbx, %r12
	movq %r12, 80(%rdi)
	movl $0, %r13d			/* mov keeps the flags */
	adcxq %r13, %r13
	adoxq %rbp, %r13
	movq %r13, 88(%rdi)
	ret

/* (%rdi)[0..5] = (%rsi)[0..11] / 2^384 mod p for an input below p 2^384:
 * six reduction rounds on the low half give (lo + m p) / 2^384 <= p, then the
 * high half (< p) is added and one conditional subtraction brings the sum
 * (< 2p) below p. Clobbers rax, rbx, rbp, rcx, rdx, r8-r15; the output may
 * alias the input. */
	.p2align 5
.Lredc:
	movq 0(%rsi), %r8
	movq 8(%rsi), %r9
	movq 16(%rsi), %r10
	movq 24(%rsi), %r11
	movq 32(%rsi), %r12
	movq 40(%rsi), %r13
	xorl %r14d, %r14d
	REDSTEP %r8, %r9, %r10, %r11, %r12, %r13, %r14
	REDSTEP %r9, %r10, %r11, %r12, %r13, %r14, %r8
	REDSTEP %r10, %r11, %r12, %r13, %r14, %r8, %r9
	REDSTEP %r11, %r12, %r13, %r14, %r8, %r9, %r10
	REDSTEP %r12, %r13, %r14, %r8, %r9, %r10, %r11
	REDSTEP %r13, %r14, %r8, %r9, %r10, %r11, %r12
	addq 48(%rsi), %r14
	adcq 56(%rsi), %r8
	adcq 64(%rsi), %r9
	adcq 72(%rsi), %r10
	adcq 80(%rsi), %r11
	adcq 88(%rsi), %r12
	FINAL_SUB %r14, %r8, %r9, %r10, %r11, %r12
	ret

/* 6-limb plain sum (no reduction; the callers' inputs are < p, so the sum is
 * < 2p < 2^382): \d = \a + \b. Clobbers r8-r13. */
.macro ADD6 d, a, b
	movq 0+\a, %r8
	movq 8+\a, %r9
	movq 16+\a, %r10
	movq 24+\a, %r11
	movq 32+\a, %r12
	movq 40+\a, %r13
	addq 0+\b, %r8
	adcq 8+\b, %r9
	adcq 16+\b, %r10
	adcq 24+\b, %r11
	adcq 32+\b, %r12
	adcq 40+\b, %r13
	movq %r8, 0+\d
	movq %r9, 8+\d
	movq %r10, 16+\d
	movq %r11, 24+\d
	movq %r12, 32+\d
	movq %r13, 40+\d
.endm

/* Modular add/sub bodies on 6 limbs at byte offset \o of (%rsi), (%rdx) into
 * (%rdi) (the top half of the wide versions uses \o = 48 with modulus p 2^384,
 * whose low half is zero). The trial result goes to the output and is loaded
 * back by cmov when it is the right one, so outputs may alias inputs.
 * Clobbers rax, rcx, rbx, rbp, r8-r11; keeps rdi, rsi, rdx. */
.macro ADDMOD_TOP o, first
	movq \o+0(%rsi), %r8
	movq \o+8(%rsi), %r9
	movq \o+16(%rsi), %r10
	movq \o+24(%rsi), %r11
	movq \o+32(%rsi), %rax
	movq \o+40(%rsi), %rcx
	.ifc \first,1
	addq \o+0(%rdx), %r8
	.else
	adcq \o+0(%rdx), %r8
	.endif
	adcq \o+8(%rdx), %r9
	adcq \o+16(%rdx), %r10
	adcq \o+24(%rdx), %r11
	adcq \o+32(%rdx), %rax
	adcq \o+40(%rdx), %rcx
	movq %r8, %rbx
	subq .Lp+0(%rip), %rbx
	movq %rbx, \o+0(%rdi)
	movq %r9, %rbx
	sbbq .Lp+8(%rip), %rbx
	movq %rbx, \o+8(%rdi)
	movq %r10, %rbx
	sbbq .Lp+16(%rip), %rbx
	movq %rbx, \o+16(%rdi)
	movq %r11, %rbx
	sbbq .Lp+24(%rip), %rbx
	movq %rbx, \o+24(%rdi)
	movq %rax, %rbx
	sbbq .Lp+32(%rip), %rbx
	movq %rbx, \o+32(%rdi)
	movq %rcx, %rbx
	sbbq .Lp+40(%rip), %rbx
	movq %rbx, \o+40(%rdi)
	/* no borrow: the sum was >= p, keep the difference already stored */
	cmovncq \o+0(%rdi), %r8
	cmovncq \o+8(%rdi), %r9
	cmovncq \o+16(%rdi), %r10
	cmovncq \o+24(%rdi), %r11
	cmovncq \o+32(%rdi), %rax
	cmovncq \o+40(%rdi), %rcx
	movq %r8, \o+0(%rdi)
	movq %r9, \o+8(%rdi)
	movq %r10, \o+16(%rdi)
	movq %r11, \o+24(%rdi)
	movq %rax, \o+32(%rdi)
	movq %rcx, \o+40(%rdi)
.endm

.macro SUBMOD_TOP o, first
	movq \o+0(%rsi), %r8
	movq \o+8(%rsi), %r9
	movq \o+16(%rsi), %r10
	movq \o+24(%rsi), %r11
	movq \o+32(%rsi), %rax
	movq \o+40(%rsi), %rcx
	.ifc \first,1
	subq \o+0(%rdx), %r8
	.else
	sbbq \o+0(%rdx), %r8
	.endif
	sbbq \o+8(%rdx), %r9
	sbbq \o+16(%rdx), %r10
	sbbq \o+24(%rdx), %r11
	sbbq \o+32(%rdx), %rax
	sbbq \o+40(%rdx), %rcx
	sbbq %rbp, %rbp			/* all ones when a < b */
	movq %r8, %rbx
	addq .Lp+0(%rip), %rbx
	movq %rbx, \o+0(%rdi)
	movq %r9, %rbx
	adcq .Lp+8(%rip), %rbx
	movq %rbx, \o+8(%rdi)
	movq %r10, %rbx
	adcq .Lp+16(%rip), %rbx
	movq %rbx, \o+16(%rdi)
	movq %r11, %rbx
	adcq .Lp+24(%rip), %rbx
	movq %rbx, \o+24(%rdi)
	movq %rax, %rbx
	adcq .Lp+32(%rip), %rbx
	movq %rbx, \o+32(%rdi)
	movq %rcx, %rbx
	adcq .Lp+40(%rip), %rbx
	movq %rbx, \o+40(%rdi)
	/* borrowed: keep the difference plus p already stored */
	testq %rbp, %rbp
	cmovnzq \o+0(%rdi), %r8
	cmovnzq \o+8(%rdi), %r9
	cmovnzq \o+16(%rdi), %r10
	cmovnzq \o+24(%rdi), %r11
	cmovnzq \o+32(%rdi), %rax
	cmovnzq \o+40(%rdi), %rcx
	movq %r8, \o+0(%rdi)
	movq %r9, \o+8(%rdi)
	movq %r10, \o+16(%rdi)
	movq %r11, \o+24(%rdi)
	movq %rax, \o+32(%rdi)
	movq %rcx, \o+40(%rdi)
.endm

/* the low half of a wide add/sub at byte offset \o: plain carry chain */
.macro WIDE_LOW op1, op, o
	movq \o+0(%rsi), %rax
	\op1 \o+0(%rdx), %rax
	movq %rax, \o+0(%rdi)
	movq \o+8(%rsi), %rax
	\op \o+8(%rdx), %rax
	movq %rax, \o+8(%rdi)
	movq \o+16(%rsi), %rax
	\op \o+16(%rdx), %rax
	movq %rax, \o+16(%rdi)
	movq \o+24(%rsi), %rax
	\op \o+24(%rdx), %rax
	movq %rax, \o+24(%rdi)
	movq \o+32(%rsi), %rax
	\op \o+32(%rdx), %rax
	movq %rax, \o+32(%rdi)
	movq \o+40(%rsi), %rax
	\op \o+40(%rdx), %rax
	movq %rax, \o+40(%rdi)
.endm

/* wide a + b mod p 2^384 at byte offset \o */
.macro WADD o
	WIDE_LOW addq, adcq, \o
	ADDMOD_TOP \o+48, 0
.endm

.macro WSUB o
	WIDE_LOW subq, sbbq, \o
	SUBMOD_TOP \o+48, 0
.endm

.macro LEAF_ENTER
	pushq %rbx
	pushq %rbp
.endm

.macro LEAF_LEAVE
	popq %rbp
	popq %rbx
	ret
.endm

FUNC bls_fp_add_adx
	LEAF_ENTER
	ADDMOD_TOP 0, 1
	LEAF_LEAVE
ENDF bls_fp_add_adx

FUNC bls_fp_sub_adx
	LEAF_ENTER
	SUBMOD_TOP 0, 1
	LEAF_LEAVE
ENDF bls_fp_sub_adx

FUNC bls_fp2_add_adx
	LEAF_ENTER
	ADDMOD_TOP 0, 1
	ADDMOD_TOP 48, 1
	LEAF_LEAVE
ENDF bls_fp2_add_adx

FUNC bls_fp2_sub_adx
	LEAF_ENTER
	SUBMOD_TOP 0, 1
	SUBMOD_TOP 48, 1
	LEAF_LEAVE
ENDF bls_fp2_sub_adx

FUNC bls_fpw_add_adx
	LEAF_ENTER
	WADD 0
	LEAF_LEAVE
ENDF bls_fpw_add_adx

FUNC bls_fpw_sub_adx
	LEAF_ENTER
	WSUB 0
	LEAF_LEAVE
ENDF bls_fpw_sub_adx

FUNC bls_fp2w_add_adx
	LEAF_ENTER
	WADD 0
	WADD 96
	LEAF_LEAVE
ENDF bls_fp2w_add_adx

FUNC bls_fp2w_sub_adx
	LEAF_ENTER
	WSUB 0
	WSUB 96
	LEAF_LEAVE
ENDF bls_fp2w_sub_adx

/* (%rdi)[0..11] -= (%rsi)[0..11], plain (the caller knows it does not
 * borrow). Clobbers rax. */
.macro SUB768_INPLACE
	movq 0(%rsi), %rax
	subq %rax, 0(%rdi)
	.irp o, 8, 16, 24, 32, 40, 48, 56, 64, 72, 80, 88
	movq \o(%rsi), %rax
	sbbq %rax, \o(%rdi)
	.endr
.endm

/* Unreduced Fp2 product (%rdi) = (%rsi) * (%rcx) (Karatsuba):
 *   w0 = a0 b0 - a1 b1 mod p 2^384,  w1 = (a0 + a1)(b0 + b1) - a0 b0 - a1 b1,
 * the latter exact (= a0 b1 + a1 b0 < 2p^2). Inputs reduced. */
	.p2align 5
.Lfp2w_mul:
	subq $192, %rsp			/* s @0, t @48, a1 b1 @96 */
	ADD6 0(%rsp), 0(%rsi), 48(%rsi)
	ADD6 48(%rsp), 0(%rcx), 48(%rcx)
	movq %rdi, %r15
	call .Lmul384			/* w0 = a0 b0 */
	leaq 96(%rsp), %rdi
	addq $48, %rsi
	addq $48, %rcx
	call .Lmul384			/* a1 b1 */
	leaq 96(%r15), %rdi
	movq %rsp, %rsi
	leaq 48(%rsp), %rcx
	call .Lmul384			/* w1 = s t */
	leaq 96(%r15), %rdi
	movq %r15, %rsi
	SUB768_INPLACE			/* w1 -= a0 b0 */
	leaq 96(%rsp), %rsi
	SUB768_INPLACE			/* w1 -= a1 b1 */
	movq %r15, %rdi
	movq %r15, %rsi
	leaq 96(%rsp), %rdx
	WSUB 0				/* w0 = a0 b0 - a1 b1 */
	addq $192, %rsp
	ret

/* Unreduced Fp2 square (%rdi) = (%rsi)^2:
 *   w0 = (a0 + a1)(a0 + p - a1) (< 4p^2, = a0^2 - a1^2 mod p),
 *   w1 = a0 (2 a1) (< 2p^2). Input reduced. */
	.p2align 5
.Lfp2w_sqr:
	subq $104, %rsp			/* s @0, d @48, a @96 */
	movq %rsi, 96(%rsp)
	ADD6 0(%rsp), 0(%rsi), 48(%rsi)
	movq 0(%rsi), %r8
	movq 8(%rsi), %r9
	movq 16(%rsi), %r10
	movq 24(%rsi), %r11
	movq 32(%rsi), %r12
	movq 40(%rsi), %r13
	subq 48(%rsi), %r8
	sbbq 56(%rsi), %r9
	sbbq 64(%rsi), %r10
	sbbq 72(%rsi), %r11
	sbbq 80(%rsi), %r12
	sbbq 88(%rsi), %r13
	addq .Lp+0(%rip), %r8		/* a0 - a1 + p in (0, 2p), mod 2^384 */
	adcq .Lp+8(%rip), %r9
	adcq .Lp+16(%rip), %r10
	adcq .Lp+24(%rip), %r11
	adcq .Lp+32(%rip), %r12
	adcq .Lp+40(%rip), %r13
	movq %r8, 48(%rsp)
	movq %r9, 56(%rsp)
	movq %r10, 64(%rsp)
	movq %r11, 72(%rsp)
	movq %r12, 80(%rsp)
	movq %r13, 88(%rsp)
	movq %rdi, %r15
	movq %rsp, %rsi
	leaq 48(%rsp), %rcx
	call .Lmul384			/* w0 = s d */
	movq 96(%rsp), %rsi
	ADD6 0(%rsp), 48(%rsi), 48(%rsi)
	leaq 96(%r15), %rdi
	movq %rsp, %rcx
	call .Lmul384			/* w1 = a0 (2 a1) */
	addq $104, %rsp
	ret

/* ------------------------------------------------------------------ */

FUNC bls_fp_sqr_adx
	SAVE
	subq $104, %rsp
	movq %rdi, 96(%rsp)
	movq %rsp, %rdi
	call .Lsqr384
	movq 96(%rsp), %rdi
	movq %rsp, %rsi
	call .Lredc
	addq $104, %rsp
	RESTORE
	ret
ENDF bls_fp_sqr_adx

FUNC bls_fpw_mul_adx
	SAVE
	movq %rdx, %rcx
	call .Lmul384
	RESTORE
	ret
ENDF bls_fpw_mul_adx

FUNC bls_fpw_sqr_adx
	SAVE
	call .Lsqr384
	RESTORE
	ret
ENDF bls_fpw_sqr_adx

FUNC bls_fpw_redc_adx
	SAVE
	call .Lredc
	RESTORE
	ret
ENDF bls_fpw_redc_adx

FUNC bls_fp2w_mul_adx
	SAVE
	movq %rdx, %rcx
	call .Lfp2w_mul
	RESTORE
	ret
ENDF bls_fp2w_mul_adx

FUNC bls_fp2w_sqr_adx
	SAVE
	call .Lfp2w_sqr
	RESTORE
	ret
ENDF bls_fp2w_sqr_adx

/* wide result on the stack, then both reductions: r may alias a or b */
FUNC bls_fp2_mul_adx
	SAVE
	subq $200, %rsp			/* w @0, r @192 */
	movq %rdi, 192(%rsp)
	movq %rdx, %rcx
	movq %rsp, %rdi
	call .Lfp2w_mul
	movq 192(%rsp), %rdi
	movq %rsp, %rsi
	call .Lredc
	movq 192(%rsp), %rdi
	addq $48, %rdi
	leaq 96(%rsp), %rsi
	call .Lredc
	addq $200, %rsp
	RESTORE
	ret
ENDF bls_fp2_mul_adx

FUNC bls_fp2_sqr_adx
	SAVE
	subq $200, %rsp
	movq %rdi, 192(%rsp)
	movq %rsp, %rdi
	call .Lfp2w_sqr
	movq 192(%rsp), %rdi
	movq %rsp, %rsi
	call .Lredc
	movq 192(%rsp), %rdi
	addq $48, %rdi
	leaq 96(%rsp), %rsi
	call .Lredc
	addq $200, %rsp
	RESTORE
	ret
ENDF bls_fp2_sqr_adx

#endif

#if defined(__ELF__)
	.section .note.GNU-stack, "", @progbits
#endif
