api_key = ENV.fetch('REDMINE_TEST_API_KEY', '0123456789abcdef0123456789abcdef01234567')
Setting.rest_api_enabled = '1'
Setting.login_required   = '1'   # anonymous gets 401
Setting.notified_events  = []    # no notification e-mails
admin = User.find_by_login('admin')
admin.must_change_passwd = false
admin.save!
tok = Token.find_by(user_id: admin.id, action: 'api') || Token.create!(user: admin, action: 'api')
tok.update_column(:value, api_key)   # a fixed, known API key
cf = IssueCustomField.find_by(name: 'External ID') || IssueCustomField.create!(
  name: 'External ID', field_format: 'string', is_for_all: true,
  is_filter: true, searchable: true, visible: true, editable: true,
  trackers: Tracker.all.to_a)
proj = Project.find_by(identifier: 'ops') || Project.create!(
  name: 'Ops', identifier: 'ops', is_public: false,
  enabled_module_names: %w[issue_tracking],
  trackers: Tracker.all.to_a, issue_custom_fields: [cf])
puts({custom_field_id: cf.id, project_id: proj.id}.inspect)
