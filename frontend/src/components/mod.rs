//! The component kit every module reuses.

pub mod badge;
pub mod breadcrumb;
pub mod date_picker;
pub mod form;
pub mod modal;
pub mod org_picker;
pub mod table;
pub mod toast;

pub use badge::{Badge, StatusBadge};
pub use breadcrumb::Breadcrumb;
pub use date_picker::DatePicker;
pub use form::{CheckboxField, FormErrors, SelectField, TextField};
pub use modal::{ConfirmHost, Modal, confirm};
pub use org_picker::OrgPicker;
pub use table::{Column, DataTable, ListQuery, Pager, SearchBox};
pub use toast::{ToastHost, Toasts};
