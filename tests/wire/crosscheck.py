# crosscheck.py — an encoder of docs/protocol.md §11 written from the text alone,
# independent of src/wire/, that prints the §11.4 vectors from the JSON vectors of §8
# (tests/proto/test_vectors.c). tests/wire/test_wire.c asserts the same bytes.
# Run: python3 tests/wire/crosscheck.py
import base64, json, hashlib
ents=["logger1","ca1","monitor1","logger2","gossiper1","gossiper2"]
GEN=1700000000000; PER=60000
def uv(v):
    out=b''
    while True:
        c=v&0x7f; v>>=7
        out+=bytes([c|(0x80 if v else 0)])
        if not v: return out
def zv(v): return uv((v<<1) if v>=0 else ((-v)<<1)-1)
def der_rs(der):
    assert der[0]==0x30 and der[1]==len(der)-2
    i=2; vals=[]
    for _ in range(2):
        assert der[i]==2; n=der[i+1]; x=der[i+2:i+2+n]; i+=2+n
        vals.append(int.from_bytes(x,'big').to_bytes(32,'big'))
    return vals[0]+vals[1]
def ps(p): return GEN+p*PER
def ts_of(s):
    import datetime
    t=datetime.datetime.strptime(s,"%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    return int(t.timestamp())
def enc(o):
    p=int(o["period"]); typ=int(o["type"].rsplit('/',1)[1])
    fam=typ%100; kind=typ//100
    out=bytes([16*kind+fam])+uv(p)
    if typ==101:
        ds=base64.b64decode(o["signature"][0]); assert ds[:2]==b'\x04\x03'
        out+=uv(ents.index(o["signer"]))+der_rs(ds[4:])
        out+=uv(int(o["payload"][0]))+bytes.fromhex(o["payload"][1])+zv(int(o["payload"][2])-ps(p))
    elif typ==102:
        out+=uv(ents.index(o["signer"]))+zv(ts_of(o["timestamp"])-ps(p)//1000)
        sch=o["crypto_scheme"]; sig=base64.b64decode(o["signature"][0])
        out+=bytes([2])+sig if sch=="ed25519" else bytes([1])+der_rs(sig)
        d=base64.b64decode(o["payload"][2]); assert hashlib.sha256(d).hexdigest()==o["payload"][1]
        out+=bytes.fromhex(o["payload"][0])+uv(len(d))+d
    return out
STH=json.loads('{"application":"CTng","type":"http://ctng.uconn.edu/101","period":"2","signer":"logger1","signers":[],"timestamp":"2023-11-14T22:15:25Z","signature":["BAMARjBEAiAwNvhsau//lF3eZZg976tfM+Zz5pf4eRd1NxpvDNvwRQIgXJcHeE/qkmN/59FUlTFNn5SrkoYe6db2r9C0Gd5Bsj8=",""],"crypto_scheme":"ecdsa-p256","payload":["7","000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f","1700000125000"]}')
REV=json.loads('{"application":"CTng","type":"http://ctng.uconn.edu/102","period":"2","signer":"ca1","signers":[],"timestamp":"2023-11-14T22:15:21Z","signature":["XaA2fpTuprHfpNNREu/wGbPtlxHYC0/WDHhs2FLQIAQitQW9olm+lRkXf5HGfUffSsuc6ZQt64Nb+Ukx3xbxAg==",""],"crypto_scheme":"ed25519","payload":["6e42da1d8497f2f0c8114a0d19985d6a41267f276f91c9999877528f98805448","34f8596577067d2687abfde884d9bb4a563207d20db3aa83a3626acb90f099cb","OjAAAAIAAAAAAAAAAQAAABgAAAAaAAAACQBwEQ=="]}')
print("STH",len(enc(STH)),enc(STH).hex())
print("REV",len(enc(REV)),enc(REV).hex())
sig=base64.b64decode('ZNkxBSDo7t2lS3OTt24knk7UH3pr0WlIkVzGGcwiEAqXJWatioxNr8Db+VaOeS8eDWoNlw3MrVN4kLUpfUEuBA==')
d=bytes.fromhex('2a420611bd8739719a33243f593ab811b51c490044c8ed9fba15dc27953ad240')
w=bytes([0x50])+uv(ents.index("monitor1"))+uv(ents.index("logger1"))+uv(2)+uv(1|(1<<2))+d+bytes([2])+sig
print("OBS",len(w),w.hex())
