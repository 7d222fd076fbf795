/* proto_vectors.h — the JSON test vectors of docs/protocol.md §8 that more
 * than one test checks: tests/proto/test_vectors.c (signatures, hashes) and
 * tests/wire/test_wire.c (their binary form, §11.4). */
#ifndef CTNG_TEST_PROTO_VECTORS_H
#define CTNG_TEST_PROTO_VECTORS_H

#define CTNG_VEC_STH_JSON \
    "{\"application\":\"CTng\",\"type\":\"http://ctng.uconn.edu/101\",\"period\":\"2\"," \
    "\"signer\":\"logger1\",\"signers\":[],\"timestamp\":\"2023-11-14T22:15:25Z\"," \
    "\"signature\":[\"BAMARjBEAiAwNvhsau//lF3eZZg976tfM+Zz5pf4eRd1NxpvDNvwRQIgXJcHeE/" \
    "qkmN/59FUlTFNn5SrkoYe6db2r9C0Gd5Bsj8=\",\"\"],\"crypto_scheme\":\"ecdsa-p256\"," \
    "\"payload\":[\"7\",\"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\"," \
    "\"1700000125000\"]}"

#define CTNG_VEC_REV_JSON \
    "{\"application\":\"CTng\",\"type\":\"http://ctng.uconn.edu/102\",\"period\":\"2\"," \
    "\"signer\":\"ca1\",\"signers\":[],\"timestamp\":\"2023-11-14T22:15:21Z\",\"signature\":[" \
    "\"XaA2fpTuprHfpNNREu/wGbPtlxHYC0/WDHhs2FLQIAQitQW9olm+lRkXf5HGfUffSsuc6ZQt64Nb+Ukx3xbxAg==\"," \
    "\"\"],\"crypto_scheme\":\"ed25519\",\"payload\":[\"6e42da1d8497f2f0c8114a0d19985d6a41267f27" \
    "6f91c9999877528f98805448\",\"34f8596577067d2687abfde884d9bb4a563207d20db3aa83a3626acb90f099" \
    "cb\",\"OjAAAAIAAAAAAAAAAQAAABgAAAAaAAAACQBwEQ==\"]}"

#define CTNG_VEC_OBS_A_JSON \
    "{\"monitor\":\"monitor1\",\"entity\":\"logger1\",\"family\":\"STH\",\"period\":\"2\"," \
    "\"result\":\"obtained\",\"digest\":" \
    "\"2a420611bd8739719a33243f593ab811b51c490044c8ed9fba15dc27953ad240\",\"checks\":[" \
    "\"consistent\"],\"crypto_scheme\":\"ed25519\",\"signature\":\"ZNkxBSDo7t2lS3OTt24knk7UH3pr0W" \
    "lIkVzGGcwiEAqXJWatioxNr8Db+VaOeS8eDWoNlw3MrVN4kLUpfUEuBA==\"}"

#endif
