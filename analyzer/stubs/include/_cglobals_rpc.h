/* cglobals: stand-in for Sun RPC and NIS (rpc/rpc.h, rpcsvc/yp*.h) */
#ifndef _CGLOBALS_RPC_H
#define _CGLOBALS_RPC_H
#include "_cglobals_libc.h"
#define YPERR_SUCCESS 0
#define YPERR_KEY 5
#define YPERR_MAP 7
#define YP_TRUE 1
typedef int bool_t;
typedef int enum_t;
typedef char *domainname;
typedef char *mapname;
typedef char *peername;
typedef char *keydat_t;
typedef struct XDR XDR;
typedef struct CLIENT CLIENT;
typedef bool_t (*xdrproc_t)(XDR *, void *, ...);
enum clnt_stat { RPC_SUCCESS = 0 };
enum ypstat { YP_TRUE_STAT = 1 };
struct ypall_callback { int (*foreach)(int, char *, int, char *, int, char *); char *data; };
struct ypmaplist { mapname map; struct ypmaplist *next; };
struct ypresp_maplist { int stat; struct ypmaplist *maps; };
typedef struct ypresp_maplist nisresp_maplist;
#endif
