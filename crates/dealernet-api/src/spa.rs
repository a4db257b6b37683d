//! Serving the SPA: files from the web directory, `index.html` for every other non-API path so
//! deep links work with history routing.

use std::path::{Path, PathBuf};

use actix_files::{Files, NamedFile};
use actix_web::dev::{HttpServiceFactory, ServiceRequest, ServiceResponse, fn_service};
use actix_web::http::header;
use actix_web::{HttpResponse, web};

pub fn service(web_dir: &Path) -> impl HttpServiceFactory + use<> {
    let index = web_dir.join("index.html");
    if index.is_file() {
        let index: PathBuf = index;
        web::scope("").service(
            Files::new("/", web_dir)
                .index_file("index.html")
                .use_etag(true)
                .default_handler(fn_service(move |req: ServiceRequest| {
                    let index = index.clone();
                    async move {
                        let (req, _) = req.into_parts();
                        let res = match NamedFile::open(&index) {
                            Ok(f) => {
                                let mut res = f.into_response(&req);
                                res.headers_mut().insert(
                                    header::CACHE_CONTROL,
                                    header::HeaderValue::from_static("no-cache"),
                                );
                                res
                            }
                            Err(_) => HttpResponse::NotFound().finish(),
                        };
                        Ok(ServiceResponse::new(req, res))
                    }
                })),
        )
    } else {
        let dir = web_dir.display().to_string();
        web::scope("").default_service(web::to(move || {
            let dir = dir.clone();
            async move {
                HttpResponse::ServiceUnavailable()
                    .content_type("text/html; charset=utf-8")
                    .body(format!(
                        "<!doctype html><title>DealerNet</title><h1>DealerNet API is running</h1>\
                         <p>The web app is not built in <code>{dir}</code>. Run <code>cargo xtask build-web</code> \
                         (or set <code>DEALERNET_WEB_DIR</code>). The API is at <a href=\"/api/docs/\">/api/docs/</a>.</p>"
                    ))
            }
        }))
    }
}
