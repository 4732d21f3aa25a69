/* cglobals: stand-in for OpenSSL's headers (types and version macros only). */
#ifndef _CGLOBALS_OPENSSL_H
#define _CGLOBALS_OPENSSL_H
#include "_cglobals_libc.h"
#define OPENSSL_VERSION_NUMBER 0x30000100L
#define OPENSSL_VERSION_MAJOR 3
#define OPENSSL_VERSION_MINOR 0
#define OPENSSL_THREADS 1
#define OPENSSL_VERSION_TEXT "OpenSSL 3.0.1"
#define EVP_MAX_MD_SIZE 64
#define SSL3_VERSION 0x0300
#define TLS1_VERSION 0x0301
#define TLS1_1_VERSION 0x0302
#define TLS1_2_VERSION 0x0303
#define TLS1_3_VERSION 0x0304
#define OPENSSL_NO_SSL3 1
#define OPENSSL_NO_SSL2 1
#define SSL_MAX_MASTER_KEY_LENGTH 48
#define SSL3_RANDOM_SIZE 32
#define STACK_OF(type) struct stack_st_##type
#define LHASH_OF(type) struct lhash_st_##type
#define DECLARE_ASN1_FUNCTIONS(type)
typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_session_st SSL_SESSION;
typedef struct ssl_method_st SSL_METHOD;
typedef struct ssl_cipher_st SSL_CIPHER;
typedef struct x509_st X509;
typedef struct x509_store_st X509_STORE;
typedef struct x509_store_ctx_st X509_STORE_CTX;
typedef struct X509_name_st X509_NAME;
typedef struct X509_name_entry_st X509_NAME_ENTRY;
typedef struct X509_extension_st X509_EXTENSION;
typedef struct x509_object_st X509_OBJECT;
typedef struct X509_VERIFY_PARAM_st X509_VERIFY_PARAM;
typedef struct X509_crl_st X509_CRL;
typedef struct X509_algor_st X509_ALGOR;
typedef struct x509_lookup_st X509_LOOKUP;
typedef struct x509_lookup_method_st X509_LOOKUP_METHOD;
typedef struct v3_ext_method X509V3_EXT_METHOD;
typedef struct v3_ext_ctx X509V3_CTX;
typedef struct asn1_object_st ASN1_OBJECT;
typedef struct asn1_string_st ASN1_STRING;
typedef struct asn1_string_st ASN1_INTEGER;
typedef struct asn1_string_st ASN1_ENUMERATED;
typedef struct asn1_string_st ASN1_BIT_STRING;
typedef struct asn1_string_st ASN1_OCTET_STRING;
typedef struct asn1_string_st ASN1_PRINTABLESTRING;
typedef struct asn1_string_st ASN1_T61STRING;
typedef struct asn1_string_st ASN1_IA5STRING;
typedef struct asn1_string_st ASN1_GENERALSTRING;
typedef struct asn1_string_st ASN1_UNIVERSALSTRING;
typedef struct asn1_string_st ASN1_BMPSTRING;
typedef struct asn1_string_st ASN1_UTCTIME;
typedef struct asn1_string_st ASN1_TIME;
typedef struct asn1_string_st ASN1_GENERALIZEDTIME;
typedef struct asn1_string_st ASN1_VISIBLESTRING;
typedef struct asn1_string_st ASN1_UTF8STRING;
typedef struct asn1_type_st ASN1_TYPE;
typedef struct ASN1_ITEM_st ASN1_ITEM;
typedef struct bio_st BIO;
typedef struct bio_method_st BIO_METHOD;
typedef struct bio_addr_st BIO_ADDR;
typedef struct bignum_st BIGNUM;
typedef struct bignum_ctx BN_CTX;
typedef struct evp_md_st EVP_MD;
typedef struct evp_md_ctx_st EVP_MD_CTX;
typedef struct evp_pkey_st EVP_PKEY;
typedef struct evp_pkey_ctx_st EVP_PKEY_CTX;
typedef struct evp_cipher_st EVP_CIPHER;
typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;
typedef struct evp_mac_st EVP_MAC;
typedef struct evp_mac_ctx_st EVP_MAC_CTX;
typedef struct hmac_ctx_st HMAC_CTX;
typedef struct dh_st DH;
typedef struct rsa_st RSA;
typedef struct ec_key_st EC_KEY;
typedef struct ec_group_st EC_GROUP;
typedef struct engine_st ENGINE;
typedef struct rand_meth_st RAND_METHOD;
typedef struct ossl_lib_ctx_st OSSL_LIB_CTX;
typedef struct ossl_param_st OSSL_PARAM;
typedef struct ossl_provider_st OSSL_PROVIDER;
typedef struct crypto_ex_data_st CRYPTO_EX_DATA;
typedef struct ossl_init_settings_st OPENSSL_INIT_SETTINGS;
typedef struct obj_name_st { int type; int alias; const char *name; const char *data; } OBJ_NAME;
typedef struct GENERAL_NAME_st GENERAL_NAME;
typedef struct stack_st_GENERAL_NAME GENERAL_NAMES;
typedef struct DIST_POINT_st DIST_POINT;
typedef struct DIST_POINT_NAME_st DIST_POINT_NAME;
typedef struct stack_st_DIST_POINT CRL_DIST_POINTS;
typedef struct ACCESS_DESCRIPTION_st ACCESS_DESCRIPTION;
typedef struct stack_st_ACCESS_DESCRIPTION AUTHORITY_INFO_ACCESS;
typedef struct otherName_st OTHERNAME;
typedef struct EDIPartyName_st EDIPARTYNAME;
typedef struct x509_purpose_st X509_PURPOSE;
typedef struct pkcs7_st PKCS7;
typedef struct conf_st CONF;
typedef struct ocsp_response_st OCSP_RESPONSE;
typedef struct ERR_string_data_st ERR_STRING_DATA;
typedef int pem_password_cb(char *buf, int size, int rwflag, void *userdata);
typedef int (*SSL_verify_cb)(int preverify_ok, X509_STORE_CTX *x509_ctx);
typedef void (*SSL_CTX_keylog_cb_func)(const SSL *ssl, const char *line);
typedef int (*SSL_psk_client_cb_func)(SSL *, const char *, char *, unsigned int, unsigned char *, unsigned int);
typedef int (*SSL_psk_server_cb_func)(SSL *, const char *, unsigned char *, unsigned int);
typedef struct stack_st OPENSSL_STACK;
typedef void CRYPTO_free_func;
#endif
