/* consts.h — declarations of the generated BLS12-381 constants (consts.c). */
#ifndef CTNG_BLS12_381_CONSTS_H
#define CTNG_BLS12_381_CONSTS_H
#include "crypto/bls12_381/field.h"

extern const uint64_t BLS_P[6];
extern const uint64_t BLS_P_INV;
extern const fp BLS_FP_R2, BLS_FP_ONE, BLS_FP_2POW256;
extern const uint64_t BLS_P_MINUS1_DIV2[6];
extern const uint8_t BLS_P34_CHAIN[][2]; /* a^((p-3)/4): (squarings, odd power) */
extern const int BLS_P34_CHAIN_LEN;
extern const uint64_t BLS_R[4];
extern const uint64_t BLS_R_INV;
extern const fr BLS_FR_R2, BLS_FR_R3, BLS_FR_ONE;
extern const fp BLS_G1_B, BLS_G1_B3, BLS_G1_GX, BLS_G1_GY, BLS_G1_BETA;
extern const fp2 BLS_G2_B, BLS_G2_B3, BLS_G2_GX, BLS_G2_GY, BLS_PSI_CX, BLS_PSI_CY;
extern const fp BLS_PSI2_CX;
extern const fp2 BLS_FROB6_C1, BLS_FROB6_C2, BLS_FROB12_C1;
extern const fp BLS_ISO_A, BLS_ISO_B, BLS_SSWU_Z, BLS_SSWU_SQRT_MINUS_Z;
extern const fp BLS_ISO_XNUM[12], BLS_ISO_XDEN[11], BLS_ISO_YNUM[16], BLS_ISO_YDEN[16];

/* |x| of the curve parameter x = -0xd201000000010000. */
#define BLS_X_ABS 0xd201000000010000ULL
#endif
